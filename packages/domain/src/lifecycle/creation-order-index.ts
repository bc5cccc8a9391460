/** Where a worker sits in creation order: by `createdAt`, then by `id` (code units). */
export interface CreationKey {
  readonly createdAt: number;
  readonly id: string;
}

/** Negative when `a` comes first, zero when equal, positive when `b` comes first. */
export function compareCreationKeys(a: CreationKey, b: CreationKey): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

/**
 * A set of creation keys in order, kept in sorted chunks of at most `chunkSize` keys (a
 * flat B-tree of one level): finding a key is a binary search over the chunks' last keys
 * and one within a chunk, O(log N); an add or delete moves at most a chunk's keys, and a
 * page is that search plus the keys it returns, O(log N + page). One sorted array would
 * move up to N keys per change, which at 100,000 workers costs more than the whole pass.
 */
export class CreationOrderIndex {
  readonly #chunkSize: number;
  readonly #chunks: CreationKey[][] = [];
  #size = 0;

  constructor(chunkSize = 64) {
    this.#chunkSize = Math.max(2, Math.floor(chunkSize));
  }

  get size(): number {
    return this.#size;
  }

  /** Keeps `key` itself (it is never changed), so listings can share one key object. */
  add(key: CreationKey): void {
    const chunks = this.#chunks;
    if (chunks.length === 0) {
      chunks.push([key]);
      this.#size = 1;
      return;
    }
    // A key after every chunk's last goes to the last chunk: arrival order, mostly.
    const c = Math.min(this.#chunkFor(key), chunks.length - 1);
    const chunk = chunks[c] as CreationKey[];
    const at = lowerBound(chunk, key);
    const found = chunk[at];
    if (found !== undefined && compareCreationKeys(found, key) === 0) return;
    chunk.splice(at, 0, key);
    this.#size += 1;
    if (chunk.length > this.#chunkSize) chunks.splice(c + 1, 0, chunk.splice(chunk.length >> 1));
  }

  delete(key: CreationKey): void {
    const c = this.#chunkFor(key);
    const chunk = this.#chunks[c];
    if (chunk === undefined) return;
    const at = lowerBound(chunk, key);
    const found = chunk[at];
    if (found === undefined || compareCreationKeys(found, key) !== 0) return;
    chunk.splice(at, 1);
    this.#size -= 1;
    if (chunk.length === 0) this.#chunks.splice(c, 1);
  }

  /** At most `limit` keys strictly after `after` (from the first without it), in order. */
  page(after: CreationKey | undefined, limit: number): readonly CreationKey[] {
    const out: CreationKey[] = [];
    if (!(limit > 0)) return out;
    let c = 0;
    let at = 0;
    if (after !== undefined) {
      c = this.#chunkFor(after);
      const chunk = this.#chunks[c];
      if (chunk !== undefined) {
        at = lowerBound(chunk, after);
        const found = chunk[at];
        if (found !== undefined && compareCreationKeys(found, after) === 0) at += 1;
      }
    }
    for (; c < this.#chunks.length && out.length < limit; c++, at = 0) {
      const chunk = this.#chunks[c] as CreationKey[];
      while (at < chunk.length && out.length < limit) out.push(chunk[at++] as CreationKey);
    }
    return out;
  }

  /** The first chunk whose last key is not before `key` (the chunk count if none). */
  #chunkFor(key: CreationKey): number {
    const chunks = this.#chunks;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const last = (chunks[mid] as CreationKey[]).at(-1) as CreationKey;
      if (compareCreationKeys(last, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The first position in the sorted `keys` whose key is not before `key`. */
function lowerBound(keys: readonly CreationKey[], key: CreationKey): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareCreationKeys(keys[mid] as CreationKey, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
