import { performance } from 'node:perf_hooks';

/**
 * NOTIFY after commit, coalesced: while one is in flight, any number of appends share the next.
 * Sending it inside each append's transaction would serialise every commit on PostgreSQL's
 * global notify lock; here it costs one tiny statement per burst. Polling covers a lost one.
 */
export class AppendNotifier {
  #inFlight = false;
  #pending = false;
  #timer: NodeJS.Timeout | null = null;
  #lastSent = 0;

  constructor(
    private readonly sendNotify: () => Promise<unknown>,
    private readonly minIntervalMs: number,
  ) {}

  /** Called after an append committed: a NOTIFY now, or one shortly covering the burst. */
  request(): void {
    if (this.#inFlight || this.#timer !== null) {
      this.#pending = true;
      return;
    }
    this.#send();
  }

  #send(): void {
    this.#inFlight = true;
    this.#pending = false;
    this.#lastSent = performance.now();
    void this.sendNotify()
      .catch(() => undefined)
      .finally(() => {
        this.#inFlight = false;
        if (!this.#pending) return;
        const wait = Math.max(0, this.#lastSent + this.minIntervalMs - performance.now());
        this.#timer = setTimeout(() => {
          this.#timer = null;
          this.#send();
        }, wait);
        this.#timer.unref();
      });
  }
}
