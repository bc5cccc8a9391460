import type { LifecycleEvent } from '@hodei/domain';

/**
 * The last `capacity` events in publish order, found by id, for SSE resume from memory: a
 * ring, so the oldest falls out in constant time however full it is.
 */
export class RecentEvents {
  readonly #ring: (LifecycleEvent | undefined)[];
  /** Event id to its absolute position (events ever added before it). */
  readonly #positions = new Map<string, number>();
  /** Events ever added; the ring holds the last `capacity` of them. */
  #added = 0;

  constructor(readonly capacity: number) {
    this.#ring = new Array<LifecycleEvent | undefined>(Math.max(1, capacity)).fill(undefined);
  }

  add(event: LifecycleEvent): void {
    if (this.capacity <= 0) return;
    const slot = this.#added % this.capacity;
    const old = this.#ring[slot];
    if (old !== undefined) this.#positions.delete(old.eventId);
    this.#ring[slot] = event;
    this.#positions.set(event.eventId, this.#added);
    this.#added += 1;
  }

  /** Events after `eventId`, oldest first; `undefined` if it is not (or no longer) held. */
  after(eventId: string): LifecycleEvent[] | undefined {
    const position = this.#positions.get(eventId);
    if (position === undefined) return undefined;
    const out: LifecycleEvent[] = [];
    for (let p = position + 1; p < this.#added; p++) {
      const event = this.#ring[p % this.capacity];
      if (event !== undefined) out.push(event);
    }
    return out;
  }

  newest(): LifecycleEvent | undefined {
    return this.#added === 0 ? undefined : this.#ring[(this.#added - 1) % this.capacity];
  }
}
