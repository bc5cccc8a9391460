/** Why this server does not act now: each is lifted on its own. */
export type HaltReason =
  'shutting down' | 'provider lock lost' | 'database unreachable' | 'recovering';

/**
 * Whether this server may act on workers now: change them on API request, run passes, stop or
 * remove them. Closed while it shuts down, while another server may hold its provider locks,
 * and while PostgreSQL has not answered since the start; open once every reason is lifted.
 */
export class ActingGate {
  readonly #reasons = new Set<HaltReason>();

  get acting(): boolean {
    return this.#reasons.size === 0;
  }

  /** The reasons it is closed, in words for a 503 and for `/readyz`; undefined when open. */
  get why(): string | undefined {
    return this.acting ? undefined : [...this.#reasons].join(', ');
  }

  close(reason: HaltReason): void {
    this.#reasons.add(reason);
  }

  open(reason: HaltReason): void {
    this.#reasons.delete(reason);
  }

  /** Open but for `reason`: recovery runs while the gate is closed only for it. */
  actingBut(reason: HaltReason): boolean {
    return [...this.#reasons].every((r) => r === reason);
  }

  isClosedFor(reason: HaltReason): boolean {
    return this.#reasons.has(reason);
  }
}
