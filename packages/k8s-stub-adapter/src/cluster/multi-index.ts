/**
 * Values by key, each key's values in insertion order. A key with one value holds it bare (no
 * Set), since most keys of the cluster's indexes (a Job's uid, a pod's owner) have one.
 */
export class MultiIndex<K, V extends object> {
  readonly #entries = new Map<K, V | Set<V>>();

  add(key: K, value: V): void {
    const held = this.#entries.get(key);
    if (held === undefined) this.#entries.set(key, value);
    else if (held instanceof Set) held.add(value);
    else if (held !== value) this.#entries.set(key, new Set([held, value]));
  }

  delete(key: K, value: V): void {
    const held = this.#entries.get(key);
    if (held === value) this.#entries.delete(key);
    else if (held instanceof Set) {
      held.delete(value);
      if (held.size === 1) this.#entries.set(key, held.values().next().value as V);
    }
  }

  /** How many values the key has. */
  count(key: K): number {
    const held = this.#entries.get(key);
    if (held === undefined) return 0;
    return held instanceof Set ? held.size : 1;
  }

  /** The key's values, in insertion order. */
  get(key: K): V[] {
    const held = this.#entries.get(key);
    if (held === undefined) return [];
    return held instanceof Set ? [...held] : [held];
  }
}
