/**
 * Due times of workers in a binary min-heap, so a pass costs O(due · log n) instead of a scan
 * of every tracked worker. Each key has one wanted deadline (`#wanted`) and at most one live
 * heap entry (`#queued`). A deadline that moves later does not push: when the earlier entry
 * comes up, it is pushed again at the later time. A deadline that moves earlier pushes, and
 * the entry it supersedes is skipped when popped. The heap stays about one entry per key.
 */
export class DeadlineIndex {
  #at: number[] = [];
  #keys: string[] = [];
  readonly #wanted = new Map<string, number>();
  readonly #queued = new Map<string, number>();

  get size(): number {
    return this.#wanted.size;
  }

  /** Sets (or, with `null`, clears) the key's deadline. */
  set(key: string, at: number | null): void {
    if (at === null) {
      this.#wanted.delete(key);
      return;
    }
    this.#wanted.set(key, at);
    const queued = this.#queued.get(key);
    if (queued === undefined || at < queued) {
      this.#queued.set(key, at);
      this.#push(at, key);
      if (this.#at.length > 2 * this.#queued.size + 1024) this.#compact();
    }
  }

  get(key: string): number | undefined {
    return this.#wanted.get(key);
  }

  /** The earliest deadline, if any. */
  peek(): number | undefined {
    this.#settleTop(Number.POSITIVE_INFINITY);
    return this.#at[0];
  }

  /** Removes and returns the keys due at or before `now`, earliest first. */
  popDue(now: number): string[] {
    const due: string[] = [];
    for (;;) {
      this.#settleTop(now);
      const top = this.#at[0];
      if (top === undefined || top > now) return due;
      const key = this.#keys[0]!;
      this.#pop();
      this.#queued.delete(key);
      this.#wanted.delete(key);
      due.push(key);
    }
  }

  /**
   * Until the top entry is live and wanted at its time: drops superseded and cleared entries,
   * and moves entries whose deadline went later (up to `horizon`) to their later time.
   */
  #settleTop(horizon: number): void {
    for (;;) {
      const at = this.#at[0];
      if (at === undefined) return;
      const key = this.#keys[0]!;
      if (this.#queued.get(key) !== at) {
        this.#pop();
        continue;
      }
      const wanted = this.#wanted.get(key);
      if (wanted === undefined) {
        this.#pop();
        this.#queued.delete(key);
        continue;
      }
      if (wanted === at || at > horizon) return;
      this.#pop();
      this.#queued.set(key, wanted);
      this.#push(wanted, key);
    }
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
    this.#queued.clear();
    for (const [key, at] of this.#wanted) {
      this.#queued.set(key, at);
      this.#push(at, key);
    }
  }
}
