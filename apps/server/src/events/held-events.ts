import type { LiveEvent } from './live-event-stream.js';

/**
 * Live events that arrive while a catch-up runs, in arrival order and at most `max` of them;
 * the catch-up removes the ones it sends itself, so none goes out twice. Past `max` it keeps
 * none and says so: the client is that far behind, and gets a `reset` instead.
 */
export class HeldEvents {
  readonly #events = new Map<string, LiveEvent>();
  #overflowed = false;

  constructor(readonly max: number) {}

  get size(): number {
    return this.#events.size;
  }

  get overflowed(): boolean {
    return this.#overflowed;
  }

  add(live: LiveEvent): void {
    if (this.#overflowed) return;
    const id = live.event.eventId;
    if (this.#events.size >= this.max && !this.#events.has(id)) {
      this.#overflowed = true;
      this.#events.clear();
      return;
    }
    this.#events.set(id, live);
  }

  /** An event the catch-up sent: not to be sent again. */
  delete(eventId: string): void {
    this.#events.delete(eventId);
  }

  /** Removes and returns up to `n` of the oldest. */
  take(n: number): LiveEvent[] {
    const out: LiveEvent[] = [];
    for (const [id, event] of this.#events) {
      if (out.length >= n) break;
      out.push(event);
      this.#events.delete(id);
    }
    return out;
  }

  clear(): void {
    this.#events.clear();
  }
}
