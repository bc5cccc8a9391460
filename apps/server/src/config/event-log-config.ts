import type { EnvReader } from './env-reader.js';

/** The event log's upkeep: retention of ended lives, and how often idle GC passes are recorded. */
export interface EventLogConfig {
  /** Days the events of an ended worker life are kept; undefined keeps them for ever. */
  readonly retentionDays: number | undefined;
  /** How often the retention prune runs. */
  readonly pruneIntervalMs: number;
  /** An idle deadline pass is recorded (GarbageCollectionCompleted) at most this often. */
  readonly gcHeartbeatMs: number;
}

export const DEFAULT_EVENT_LOG_CONFIG: EventLogConfig = {
  retentionDays: undefined,
  pruneIntervalMs: 60 * 60 * 1000,
  gcHeartbeatMs: 5 * 60 * 1000,
};

/**
 * `HODEI_EVENT_RETENTION_DAYS` (unset: keep every event), `HODEI_EVENT_PRUNE_INTERVAL_MINUTES`
 * (default 60) and `HODEI_GC_HEARTBEAT_SECONDS` (default 300).
 */
export function readEventLogConfig(reader: EnvReader): EventLogConfig {
  const d = DEFAULT_EVENT_LOG_CONFIG;
  const NO_LIMIT = 0;
  // Read only when set: unset means no retention at all, not a default number of days.
  const days =
    reader.read('HODEI_EVENT_RETENTION_DAYS') === undefined
      ? NO_LIMIT
      : reader.integer(
          'HODEI_EVENT_RETENTION_DAYS',
          NO_LIMIT,
          1,
          36_500,
          'a whole number of days from 1 to 36500 (unset keeps every event)',
        );
  const minutes = reader.integer(
    'HODEI_EVENT_PRUNE_INTERVAL_MINUTES',
    d.pruneIntervalMs / 60_000,
    1,
    24 * 60,
    'whole minutes from 1 to 1440',
  );
  return {
    retentionDays: days === NO_LIMIT ? undefined : days,
    pruneIntervalMs: minutes * 60_000,
    gcHeartbeatMs: reader.seconds('HODEI_GC_HEARTBEAT_SECONDS', d.gcHeartbeatMs),
  };
}
