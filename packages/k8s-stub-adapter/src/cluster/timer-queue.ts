interface Timer<T> {
  readonly at: number;
  readonly item: T;
}

/**
 * Items due at a time, as a binary min-heap: a controller wakes for what is due instead of
 * scanning every object. Entries are not removed early; the owner checks what it pops.
 */
export class TimerQueue<T> {
  readonly #heap: Timer<T>[] = [];

  get size(): number {
    return this.#heap.length;
  }

  push(at: number, item: T): void {
    const heap = this.#heap;
    heap.push({ at, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= heap[i]!.at) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  /** Removes and returns the items due by `now`, earliest first. */
  popDue(now: number): T[] {
    const due: T[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.at <= now) due.push(this.#pop());
    return due;
  }

  /** Keeps only the entries `keep` accepts (dropping those of objects gone), then re-heaps. */
  compact(keep: (at: number, item: T) => boolean): void {
    const kept = this.#heap.filter((t) => keep(t.at, t.item));
    this.#heap.length = 0;
    for (const t of kept.sort((a, b) => a.at - b.at)) this.#heap.push(t);
  }

  #pop(): T {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < heap.length && heap[l]!.at < heap[min]!.at) min = l;
        if (r < heap.length && heap[r]!.at < heap[min]!.at) min = r;
        if (min === i) break;
        [heap[min], heap[i]] = [heap[i]!, heap[min]!];
        i = min;
      }
    }
    return top.item;
  }
}
