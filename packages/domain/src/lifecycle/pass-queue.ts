/** Runs passes one at a time in call order: GC and reconciliation never run at the same time. */
export class PassQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

/** A pass that a call made while one is queued or running joins, getting that pass's result. */
export class JoinedPass<T> {
  readonly #start: () => Promise<T>;
  #current: Promise<T> | null = null;

  constructor(start: () => Promise<T>) {
    this.#start = start;
  }

  run(): Promise<T> {
    if (this.#current === null) {
      const pass = this.#start();
      this.#current = pass;
      // Both ways: a `finally` here would be a second promise that rejects with the pass, and
      // nobody would handle it (an unhandled rejection ends a Node process).
      const clear = (): void => {
        if (this.#current === pass) this.#current = null;
      };
      pass.then(clear, clear);
    }
    return this.#current;
  }
}
