/**
 * Serialises async work per key: calls for one key run one after another in call order;
 * different keys run concurrently. Keys with nothing queued hold no memory.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    // Always a turn later, never `work()` at once: the tail must be registered before work
    // starts, or a call `work` makes synchronously on the same key (a provider that notifies
    // from inside a call) would run beside it.
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  get size(): number {
    return this.#tails.size;
  }
}
