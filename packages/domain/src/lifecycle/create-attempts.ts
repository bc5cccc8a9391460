/** Provider errors that say no resource was made: nothing of such an attempt can be left. */
const MADE_NOTHING: ReadonlySet<string> = new Set(['WorkerAlreadyExists', 'InvalidWorkerSpec']);

/**
 * The creates under way and those that failed, by worker id. A create is recorded before the
 * provider is called: while it is in flight, reconciliation and orphan detection keep off
 * that id's resources (they are not tracked yet); when it fails, whatever it may have left
 * (a provider that crashed mid-create, a cleanup that failed too) is to be removed by the
 * next reconciliations, until a listing shows none. A later create under the id that
 * succeeds supersedes the failed one. In memory only: after a restart, recovery adopts what
 * an attempt left from its labels.
 */
export class CreateAttempts {
  readonly #inFlight = new Map<string, number>();
  readonly #toRemove = new Set<string>();

  /** A create of `workerId` starts. */
  begin(workerId: string): void {
    this.#inFlight.set(workerId, (this.#inFlight.get(workerId) ?? 0) + 1);
  }

  /** The create succeeded: tracked now, nothing of the id is to be removed. */
  succeeded(workerId: string): void {
    this.#end(workerId);
    this.#toRemove.delete(workerId);
  }

  /** The create failed with `error`: what it may have left is to be removed. */
  failed(workerId: string, error: { readonly type: string }): void {
    this.#end(workerId);
    if (!MADE_NOTHING.has(error.type)) this.#toRemove.add(workerId);
  }

  isInFlight(workerId: string | undefined): boolean {
    return workerId !== undefined && this.#inFlight.has(workerId);
  }

  /** True when `workerId`'s untracked resources are a failed create's, to be removed. */
  isToRemove(workerId: string | undefined): boolean {
    return workerId !== undefined && this.#toRemove.has(workerId);
  }

  /** The worker ids of failed creates whose resources are to be removed. */
  toRemove(): string[] {
    return [...this.#toRemove];
  }

  /** Nothing of the failed create is left (or a tracked life superseded it). */
  drop(workerId: string): void {
    this.#toRemove.delete(workerId);
  }

  #end(workerId: string): void {
    const n = (this.#inFlight.get(workerId) ?? 1) - 1;
    if (n <= 0) this.#inFlight.delete(workerId);
    else this.#inFlight.set(workerId, n);
  }
}
