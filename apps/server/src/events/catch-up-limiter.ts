/**
 * Bounds the catch-ups (`Last-Event-ID` resumes) running at once: each reads the event store
 * and holds a page in memory, so a reconnect storm is turned away instead of piling up.
 */
export class CatchUpLimiter {
  #running = 0;

  constructor(readonly max: number) {}

  /** A slot and the function that gives it back (once), or null when all are taken. */
  tryAcquire(): (() => void) | null {
    if (this.#running >= this.max) return null;
    this.#running += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running -= 1;
    };
  }
}
