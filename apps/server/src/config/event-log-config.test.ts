import { describe, expect, it } from 'vitest';
import { EnvReader } from './env-reader.js';
import { DEFAULT_EVENT_LOG_CONFIG, readEventLogConfig } from './event-log-config.js';

const read = (env: Record<string, string>) => {
  const reader = new EnvReader(env);
  return { config: readEventLogConfig(reader), problems: reader.problems };
};

describe('the event log configuration', () => {
  it('keeps every event by default, prunes hourly once told to, heartbeats every 5 minutes', () => {
    expect(read({})).toEqual({
      config: { retentionDays: undefined, pruneIntervalMs: 3_600_000, gcHeartbeatMs: 300_000 },
      problems: [],
    });
    expect(DEFAULT_EVENT_LOG_CONFIG.retentionDays).toBeUndefined();
  });

  it('reads the retention in days, the prune interval in minutes, the heartbeat in seconds', () => {
    expect(
      read({
        HODEI_EVENT_RETENTION_DAYS: '30',
        HODEI_EVENT_PRUNE_INTERVAL_MINUTES: '15',
        HODEI_GC_HEARTBEAT_SECONDS: '60',
      }).config,
    ).toEqual({ retentionDays: 30, pruneIntervalMs: 900_000, gcHeartbeatMs: 60_000 });
  });

  it('names each bad value and what it accepts, and keeps nothing it could not read', () => {
    const { config, problems } = read({
      HODEI_EVENT_RETENTION_DAYS: '0',
      HODEI_EVENT_PRUNE_INTERVAL_MINUTES: 'soon',
    });
    expect(config.retentionDays).toBeUndefined();
    expect(problems).toEqual([
      {
        variable: 'HODEI_EVENT_RETENTION_DAYS',
        value: '0',
        accepts: 'a whole number of days from 1 to 36500 (unset keeps every event)',
      },
      {
        variable: 'HODEI_EVENT_PRUNE_INTERVAL_MINUTES',
        value: 'soon',
        accepts: 'whole minutes from 1 to 1440',
      },
    ]);
  });
});
