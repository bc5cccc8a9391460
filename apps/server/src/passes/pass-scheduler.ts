import type { Logger } from '@hodei/domain';
import type { ProviderEntry } from '../workers/provider-entry.js';
import type { PassObserver } from './pass-observer.js';

export type { PassObserver } from './pass-observer.js';

/**
 * Runs each provider's deadline pass every `gcIntervalMs` and its reconciliation every
 * `reconcileIntervalMs`. The next run is timed from the end of the last, and the manager
 * itself never lets two passes overlap.
 */
export class PassScheduler {
  readonly #timers = new Set<NodeJS.Timeout>();
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
      this.#every(this.intervals.gcIntervalMs, async () => {
        if (!(await ensureRecovered())) return;
        const stats = await manager.runGcCycle();
        if (stats.isOk()) this.observer.gc(entry.id, stats.value);
        else
          this.logger.warn('deadline pass failed', { provider: entry.id, error: stats.error.type });
      });
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
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#running]);
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
        void run.finally(() => {
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
