import type { LifecycleError, LifecycleManager, Logger, RecoveryReport } from '@hodei/domain';
import { describeError } from '../workers/service.errors.js';

/**
 * Recovery of one provider, done once. Until it has succeeded (its engine may be down at
 * start), the passes wait: judging workers lost or orphaned against an empty tracking table
 * would report, or with `orphanAction: 'remove'` remove, workers that are ours.
 */
export class RecoveryGate {
  #done = false;
  #lastError: LifecycleError | undefined;
  #running: Promise<boolean> | null = null;
  /** Set by `reset`: the tracking this server kept may be stale, so it is rebuilt too. */
  #refresh = false;
  /**
   * Counts the resets: an attempt that started before the latest one listed what another
   * server may have changed since, so it does not count the provider as recovered.
   */
  #generation = 0;

  constructor(
    private readonly providerId: string,
    private readonly manager: LifecycleManager,
    private readonly logger: Logger,
    /** False while this server may not act (see ActingGate): recovery waits too. */
    private readonly mayAct: () => boolean = () => true,
  ) {}

  get recovered(): boolean {
    return this.#done;
  }

  /** Why the last attempt failed, while recovery has not succeeded. */
  get lastError(): LifecycleError | undefined {
    return this.#done ? undefined : this.#lastError;
  }

  ensure(): Promise<boolean> {
    if (this.#done) return Promise.resolve(true);
    if (!this.mayAct()) return Promise.resolve(false);
    this.#running ??= this.#attempt().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /**
   * Counts the provider as not recovered again (its lock was lost: another server may have
   * created or removed workers meanwhile); the next `ensure` recovers anew before anyone acts.
   */
  reset(): void {
    this.#done = false;
    this.#refresh = true;
    this.#generation += 1;
  }

  async #attempt(): Promise<boolean> {
    const generation = this.#generation;
    // After a reset, a refreshing recovery: the workers still tracked are rebuilt from the
    // listing and the log too, and the ones another server removed are dropped or lost.
    const result = await this.manager.recover({ refresh: this.#refresh });
    if (result.isErr()) {
      const again = this.#lastError?.type === result.error.type;
      this.#lastError = result.error;
      // Said once per cause, not at every try of the passes.
      if (!again)
        this.logger.error('provider cannot be recovered yet; its passes wait', {
          provider: this.providerId,
          error: describeError(result.error),
        });
      return false;
    }
    // Reset while it ran: its listing may be stale, so the next `ensure` recovers anew.
    if (generation !== this.#generation) return false;
    this.#done = true;
    this.#lastError = undefined;
    const report: RecoveryReport = result.value;
    this.logger.info('provider recovered', { provider: this.providerId, ...report });
    return true;
  }
}
