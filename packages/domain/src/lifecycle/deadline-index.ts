/**
 * Due times of workers in a binary min-heap with lazy deletion, so a pass costs
 * O(due · log n) instead of a scan of every tracked worker. Each key has at most one live
 * deadline (`#current`); heap entries that no longer match it are skipped when popped and
 * dropped when the heap grows past twice the live count.
 */
export class DeadlineIndex {
  #at: number[] = [];
  #keys: string[] = [];
  readonly #current = new Map<string, number>();

  get size(): number {
    return this.#current.size;
  }

  /** Sets (or, with `null`, clears) the key's deadline. */
  set(key: string, at: number | null): void {
    if (at === null) {
      this.#current.delete(key);
      return;
    }
    if (this.#current.get(key) === at) return;
    this.#current.set(key, at);
    this.#push(at, key);
    if (this.#at.length > 2 * this.#current.size + 1024) this.#compact();
  }

  get(key: string): number | undefined {
    return this.#current.get(key);
  }

  /** The earliest live deadline, if any. */
  peek(): number | undefined {
    this.#dropStale();
    return this.#at[0];
  }

  /** Removes and returns the keys due at or before `now`, earliest first. */
  popDue(now: number): string[] {
    const due: string[] = [];
    for (;;) {
      this.#dropStale();
      const top = this.#at[0];
      if (top === undefined || top > now) return due;
      const key = this.#keys[0]!;
      this.#pop();
      this.#current.delete(key);
      due.push(key);
    }
  }

  #dropStale(): void {
    while (this.#at.length > 0 && this.#current.get(this.#keys[0]!) !== this.#at[0]) this.#pop();
  }

  #push(at: number, key: string): void {
    const a = this.#at;
    const k = this.#keys;
    let i = a.length;
    a.push(at);
    k.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= at) break;
      a[i] = a[parent]!;
      k[i] = k[parent]!;
      i = parent;
    }
    a[i] = at;
    k[i] = key;
  }

  #pop(): void {
    const a = this.#at;
    const k = this.#keys;
    const lastAt = a.pop()!;
    const lastKey = k.pop()!;
    const n = a.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && a[right]! < a[left]! ? right : left;
      if (a[child]! >= lastAt) break;
      a[i] = a[child]!;
      k[i] = k[child]!;
      i = child;
    }
    a[i] = lastAt;
    k[i] = lastKey;
  }

  #compact(): void {
    this.#at = [];
    this.#keys = [];
    for (const [key, at] of this.#current) this.#push(at, key);
  }
}
