import { silentLogger, type LogFields, type Logger } from '@hodei/domain';
import type { PruneError, PruneReport } from '@hodei/postgres-event-bus';
import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_EVENT_LOG_CONFIG } from '../config/event-log-config.js';
import { EventLogPruner, eventLogPruner } from './event-log-pruner.js';

const NOW = Date.parse('2025-06-30T00:00:00.000Z');

/** A prune that records the dates it was asked for and answers `report`. */
function recordingPrune(report: PruneReport = { workers: 2, events: 9 }) {
  const dates: string[] = [];
  const prune = (before: Date): ResultAsync<PruneReport, PruneError> => {
    dates.push(before.toISOString());
    return okAsync(report);
  };
  return { prune, dates };
}

class Lines implements Logger {
  readonly lines: { level: string; message: string; fields?: LogFields }[] = [];
  debug = (message: string, fields?: LogFields) => this.#log('debug', message, fields);
  info = (message: string, fields?: LogFields) => this.#log('info', message, fields);
  warn = (message: string, fields?: LogFields) => this.#log('warn', message, fields);
  error = (message: string, fields?: LogFields) => this.#log('error', message, fields);
  #log(level: string, message: string, fields?: LogFields) {
    this.lines.push({ level, message, ...(fields === undefined ? {} : { fields }) });
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the event log pruner', () => {
  it('prunes the lives that ended more than the retention ago, and logs what it deleted', async () => {
    const { prune, dates } = recordingPrune();
    const logger = new Lines();
    const pruner = new EventLogPruner({
      prune,
      retentionDays: 30,
      intervalMs: 1,
      now: () => NOW,
      logger,
    });
    expect((await pruner.runNow())._unsafeUnwrap()).toEqual({ workers: 2, events: 9 });
    expect(dates).toEqual(['2025-05-31T00:00:00.000Z']);
    expect(logger.lines).toEqual([
      {
        level: 'info',
        message: 'event log pruned',
        fields: { before: '2025-05-31T00:00:00.000Z', workers: 2, events: 9 },
      },
    ]);
  });

  it('logs a failure as a warning and says it will try again', async () => {
    const logger = new Lines();
    const pruner = new EventLogPruner({
      prune: () =>
        errAsync({ type: 'EventStoreUnavailable', message: 'down', retryable: true } as const),
      retentionDays: 1,
      intervalMs: 1,
      now: () => NOW,
      logger,
    });
    expect((await pruner.runNow()).isErr()).toBe(true);
    expect(logger.lines).toMatchObject([{ level: 'warn', fields: { error: 'down' } }]);
  });

  it('runs after its first delay, then every interval, until stopped', async () => {
    vi.useFakeTimers();
    const { prune, dates } = recordingPrune({ workers: 0, events: 0 });
    const pruner = new EventLogPruner({
      prune,
      retentionDays: 7,
      intervalMs: 3_600_000,
      firstDelayMs: 60_000,
      now: () => NOW,
      logger: silentLogger,
    });
    pruner.start();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(dates).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(dates).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(dates).toHaveLength(2);
    await pruner.stop();
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(dates).toHaveLength(2);
  });

  it('is not made without a retention or without an event store', () => {
    const bus = { store: { pruneEventsBefore: recordingPrune().prune } };
    expect(eventLogPruner(bus, DEFAULT_EVENT_LOG_CONFIG, silentLogger)).toBeUndefined();
    const config = { ...DEFAULT_EVENT_LOG_CONFIG, retentionDays: 30 };
    expect(eventLogPruner(undefined, config, silentLogger)).toBeUndefined();
    expect(eventLogPruner(bus, config, silentLogger)).toBeInstanceOf(EventLogPruner);
  });
});
