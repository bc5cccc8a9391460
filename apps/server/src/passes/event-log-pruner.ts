import type { Logger } from '@hodei/domain';
import type { PruneError, PruneReport } from '@hodei/postgres-event-bus';
import type { Result, ResultAsync } from 'neverthrow';
import type { EventLogConfig } from '../config/event-log-config.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface EventLogPrunerDeps {
  /** The store's prune (`bus.store.pruneEventsBefore`). */
  readonly prune: (before: Date) => ResultAsync<PruneReport, PruneError>;
  readonly retentionDays: number;
  readonly intervalMs: number;
  /** The first prune this long after `start()` (default: a minute, or the interval if shorter). */
  readonly firstDelayMs?: number;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * Retention (`HODEI_EVENT_RETENTION_DAYS`): every `intervalMs`, deletes the events of the
 * worker lives that ended more than `retentionDays` ago, and the GC and orphan reports as old.
 * Several servers on one database take turns (the prune takes a lock); a live worker's
 * events are never deleted.
 */
export class EventLogPruner {
  readonly #deps: EventLogPrunerDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = true;

  constructor(deps: EventLogPrunerDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#stopped = false;
    const d = this.#deps;
    this.#schedule(d.firstDelayMs ?? Math.min(60_000, d.intervalMs));
  }

  /** Stops scheduling and waits for a prune under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One prune now: what it deleted, logged; a failure is logged and retried next interval. */
  async runNow(): Promise<Result<PruneReport, PruneError>> {
    const d = this.#deps;
    const before = new Date(d.now() - d.retentionDays * DAY_MS);
    const result = await d.prune(before);
    if (result.isErr()) {
      d.logger.warn('event log prune failed; retried at the next interval', {
        before: before.toISOString(),
        error: result.error.message,
      });
    } else if (result.value.events > 0) {
      d.logger.info('event log pruned', { before: before.toISOString(), ...result.value });
    }
    return result;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      const run = this.runNow()
        .catch((cause: unknown) =>
          this.#deps.logger.error('event log prune threw', { error: String(cause) }),
        )
        .finally(() => {
          this.#running = undefined;
          this.#schedule(this.#deps.intervalMs);
        });
      this.#running = run;
    }, delayMs);
    this.#timer.unref();
  }
}

/**
 * The pruner the configuration asks for: none without an event store or without a retention
 * (the default keeps every event).
 */
export function eventLogPruner(
  bus: { readonly store: { pruneEventsBefore: EventLogPrunerDeps['prune'] } } | undefined,
  config: EventLogConfig,
  logger: Logger,
  now: () => number = Date.now,
): EventLogPruner | undefined {
  if (bus === undefined || config.retentionDays === undefined) return undefined;
  return new EventLogPruner({
    prune: (before) => bus.store.pruneEventsBefore(before),
    retentionDays: config.retentionDays,
    intervalMs: config.pruneIntervalMs,
    now,
    logger,
  });
}
