interface ShutdownStep {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

/**
 * What was opened, closed in reverse order. Explicit because `container.dispose()` does not
 * close instances made by factories.
 */
export class ShutdownList {
  readonly #steps: ShutdownStep[] = [];

  add(name: string, run: () => Promise<unknown>): void {
    this.#steps.push({ name, run });
  }

  async closeAll(): Promise<void> {
    for (const step of this.#steps.reverse()) {
      try {
        await step.run();
      } catch {
        // keep closing the rest
      }
    }
    this.#steps.length = 0;
  }
}
