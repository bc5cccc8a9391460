import type { Logger } from '@hodei/domain';
import { DeadlinePassTimer } from '@hodei/domain/system';
import type { ProviderEntry } from '../workers/provider-entry.js';
import type { PassObserver } from './pass-observer.js';

export type { PassObserver } from './pass-observer.js';

/**
 * Runs each provider's deadline pass every `gcIntervalMs` and its reconciliation every
 * `reconcileIntervalMs`. The next run is timed from the end of the last, and the manager
 * itself never lets two passes overlap. The deadline pass also runs sooner, at the next due
 * time its manager knows (a warning shorter than the interval), at most once a second
 * (DEADLINE_PASS_MIN_GAP_MS): see DeadlinePassTimer.
 */
export class PassScheduler {
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #deadlineTimers: DeadlinePassTimer[] = [];
  readonly #running = new Set<Promise<unknown>>();
  #stopped = true;

  constructor(
    private readonly providers: readonly ProviderEntry[],
    private readonly intervals: {
      readonly gcIntervalMs: number;
      readonly reconcileIntervalMs: number;
    },
    private readonly observer: PassObserver,
    private readonly logger: Logger,
    /** False while this server does not hold its provider locks: then nobody reaps here. */
    private readonly mayRun: () => boolean = () => true,
  ) {}

  start(): void {
    this.#stopped = false;
    for (const entry of this.providers) {
      const lifecycle = entry.lifecycle;
      if (lifecycle === undefined) continue;
      const { manager, recovery } = lifecycle;
      const ensureRecovered = async () => this.mayRun() && (await recovery.ensure());
      const deadlines = new DeadlinePassTimer({
        manager,
        intervalMs: this.intervals.gcIntervalMs,
        // Not recovered or not ours to reap: `false`, so it waits the interval, not a due time.
        pass: () =>
          this.#guarded(async () => {
            if (!(await ensureRecovered())) return false;
            const stats = await manager.runGcCycle();
            if (stats.isOk()) this.observer.gc(entry.id, stats.value);
            else
              this.logger.warn('deadline pass failed', {
                provider: entry.id,
                error: stats.error.type,
              });
            return true;
          }),
        track: (run) => this.#track(run),
        keepAlive: false,
      });
      this.#deadlineTimers.push(deadlines);
      deadlines.start();
      this.#every(this.intervals.reconcileIntervalMs, async () => {
        if (!(await ensureRecovered())) return;
        const stats = await manager.reconcile();
        if (stats.isOk()) this.observer.reconcile(entry.id, stats.value);
        else
          this.logger.warn('reconciliation failed', {
            provider: entry.id,
            error: stats.error.type,
          });
      });
    }
  }

  /** Stops scheduling and waits for passes that are running. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#deadlineTimers) t.stop();
    this.#deadlineTimers.length = 0;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#running]);
  }

  /** A pass that throws is logged, and counts as run. */
  #guarded(pass: () => Promise<boolean>): Promise<boolean> {
    return pass().catch((cause: unknown) => {
      this.logger.error('a pass threw', { error: String(cause) });
      return true;
    });
  }

  /** A run that rejects is logged here: `run.finally(...)` alone would reject unhandled. */
  #track(run: Promise<unknown>): void {
    this.#running.add(run);
    run.then(
      () => this.#running.delete(run),
      (cause: unknown) => {
        this.#running.delete(run);
        this.logger.error('a pass threw', { error: String(cause) });
      },
    );
  }

  #every(intervalMs: number, pass: () => Promise<void>): void {
    const schedule = () => {
      if (this.#stopped) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        const run = pass().catch((cause: unknown) =>
          this.logger.error('a pass threw', { error: String(cause) }),
        );
        this.#running.add(run);
        void run.then(() => {
          this.#running.delete(run);
          schedule();
        });
      }, intervalMs);
      timer.unref();
      this.#timers.add(timer);
    };
    schedule();
  }
}
