import type { LifecycleManager } from '../lifecycle/lifecycle-manager.js';

export interface DeadlinePassTimerOptions {
  readonly manager: Pick<LifecycleManager, 'deadlinePassDelay' | 'onEarlierDeadline'>;
  /** The longest wait between the end of one pass and the start of the next. */
  readonly intervalMs: number;
  /**
   * One deadline pass; must not reject. `false`: it did not run (this process may not reap
   * now), so the next wait is the whole interval, not the due time it could not act on.
   */
  readonly pass: () => Promise<boolean>;
  /** Told of each pass started, for a stop() that waits for the running ones. */
  readonly track?: (run: Promise<unknown>) => void;
  /** Whether the timer may keep the process alive (the server's must not). Default true. */
  readonly keepAlive?: boolean;
}

/**
 * Runs the deadline pass on its interval and, sooner, at the next due time the manager
 * knows (a warning shorter than the interval would otherwise fall between two passes): it
 * waits `manager.deadlinePassDelay(interval)`, read again after each pass, and is woken
 * sooner when a deadline earlier than its wake is filed while it sleeps (a create with a
 * short lifetime, a shortened policy). Never two passes at once; never closer than
 * DEADLINE_PASS_MIN_GAP_MS when woken by a due time.
 */
export class DeadlinePassTimer {
  readonly #options: DeadlinePassTimerOptions;
  #timer: NodeJS.Timeout | undefined;
  /** When the pending timer fires, by the timers' clock. */
  #timerDueAt = 0;
  #running = false;
  #stopped = true;
  #rearmQueued = false;
  #unsubscribe: (() => void) | undefined;

  constructor(options: DeadlinePassTimerOptions) {
    this.#options = options;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#unsubscribe = this.#options.manager.onEarlierDeadline(() => this.#earlier());
    this.#arm(this.#options.manager.deadlinePassDelay(this.#options.intervalMs));
  }

  /** No pass starts after this; the running one, if any, is the caller's to await (track). */
  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delayMs: number): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => this.#fire(), delayMs);
    if (this.#options.keepAlive === false) timer.unref();
    this.#timer = timer;
    this.#timerDueAt = Date.now() + delayMs;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#running = true;
    const run = this.#options.pass().then(
      (ran) => ran,
      () => true,
    );
    this.#options.track?.(run);
    void run.then((ran) => {
      this.#running = false;
      const { manager, intervalMs } = this.#options;
      this.#arm(ran ? manager.deadlinePassDelay(intervalMs) : intervalMs);
    });
  }

  /**
   * An earlier deadline was filed: called inside the store that filed it, so the timer is
   * moved in a microtask, once for a burst. A pass under way re-reads the due time itself.
   */
  #earlier(): void {
    if (this.#rearmQueued || this.#running || this.#stopped) return;
    this.#rearmQueued = true;
    queueMicrotask(() => {
      this.#rearmQueued = false;
      if (this.#running || this.#stopped || this.#timer === undefined) return;
      const delay = this.#options.manager.deadlinePassDelay(this.#options.intervalMs);
      if (Date.now() + delay >= this.#timerDueAt) return;
      clearTimeout(this.#timer);
      this.#arm(delay);
    });
  }
}
