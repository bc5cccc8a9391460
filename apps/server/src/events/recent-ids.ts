/**
 * The ids of the last `capacity` events a catch-up sent. An event is committed to the store
 * before its live copy is published, so the live copy of an event a page already carried can
 * arrive after that page, even after the switch to live: it is recognised here and skipped.
 * Only the newest matter (the live copy lags its commit by moments), so the set stays small.
 */
export class RecentIds {
  readonly #ids = new Set<string>();

  constructor(readonly capacity: number) {}

  add(id: string): void {
    this.#ids.delete(id);
    this.#ids.add(id);
    if (this.#ids.size > this.capacity) {
      const oldest = this.#ids.values().next().value;
      if (oldest !== undefined) this.#ids.delete(oldest);
    }
  }

  /** Whether `id` was sent; a live copy is seen once, so it is forgotten then. */
  take(id: string): boolean {
    return this.#ids.delete(id);
  }
}
