/** Destroys that run on after their request has been answered, kept so shutdown can wait. */
export class BackgroundJobs {
  readonly #inFlight = new Set<Promise<unknown>>();

  track(job: Promise<unknown>): void {
    this.#inFlight.add(job);
    // Handled on both sides: a job that rejects must not escape as an unhandled rejection.
    const done = (): void => {
      this.#inFlight.delete(job);
    };
    job.then(done, done);
  }

  /** Waits for background destroys still running (for shutdown). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }
}
