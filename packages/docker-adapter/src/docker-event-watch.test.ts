import { PassThrough } from 'node:stream';
import { silentLogger, type ProviderId } from '@hodei/domain';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { DockerEventWatch, toWatchEvent, type DockerEventMessage } from './docker-event-watch.js';

const providerId = 'p1' as ProviderId;
const ours: Record<string, string> = {
  'hodei.managed': 'true',
  'hodei.provider-id': 'p1',
  'hodei.worker-id': 'w1',
};
const event = (
  Action: string,
  extra: Record<string, string> = {},
  labels = ours,
): DockerEventMessage => ({
  Type: 'container',
  Action,
  Actor: { ID: 'c1', Attributes: { ...labels, ...extra } },
});

describe('toWatchEvent', () => {
  it('maps start, die, destroy and health_status of our containers', () => {
    const oom = new Set<string>();
    expect(toWatchEvent(event('start'), providerId, oom)).toEqual({
      type: 'started',
      workerId: 'w1',
      resourceId: 'c1',
    });
    expect(
      toWatchEvent(
        { ...event('die', { exitCode: '3' }), timeNano: 1_700_000_000_123 * 1_000_000 + 456_000 },
        providerId,
        oom,
      ),
    ).toEqual({
      type: 'exited',
      workerId: 'w1',
      resourceId: 'c1',
      exitCode: 3,
      oomKilled: false,
      finishedAt: 1_700_000_000_123,
    });
    expect(toWatchEvent(event('health_status: unhealthy'), providerId, oom)).toEqual({
      type: 'health',
      workerId: 'w1',
      resourceId: 'c1',
      health: 'unhealthy',
    });
    expect(toWatchEvent(event('destroy'), providerId, oom)).toEqual({
      type: 'removed',
      workerId: 'w1',
      resourceId: 'c1',
    });
  });

  it('carries an oom event into the die that follows it', () => {
    const oom = new Set<string>();
    expect(toWatchEvent(event('oom'), providerId, oom)).toBeUndefined();
    expect(toWatchEvent(event('die', { exitCode: '137' }), providerId, oom)).toMatchObject({
      type: 'exited',
      exitCode: 137,
      oomKilled: true,
    });
    expect(oom.size).toBe(0);
  });

  it('ignores other actions, other types and containers of another provider or none', () => {
    const oom = new Set<string>();
    expect(toWatchEvent(event('attach'), providerId, oom)).toBeUndefined();
    expect(toWatchEvent({ ...event('start'), Type: 'network' }, providerId, oom)).toBeUndefined();
    expect(
      toWatchEvent(event('start', {}, { ...ours, 'hodei.provider-id': 'p2' }), providerId, oom),
    ).toBeUndefined();
    expect(toWatchEvent(event('start', {}, {}), providerId, oom)).toBeUndefined();
  });
});

describe('DockerEventWatch', () => {
  const line = (id: string, Action: string, seconds: number, extra = 0): string =>
    `${JSON.stringify({
      Type: 'container',
      Action,
      Actor: { ID: id, Attributes: { ...ours, exitCode: '0' } },
      time: seconds,
      timeNano: seconds * 1e9 + extra,
    })}\n`;

  /** Stands in for dockerode's getEvents: hands out the streams the test feeds. */
  const fakeDocker = () => {
    const calls: { since?: number }[] = [];
    const streams: PassThrough[] = [];
    const docker = {
      getEvents: (options: { since?: number }) => {
        calls.push({ ...(options.since === undefined ? {} : { since: options.since }) });
        const stream = new PassThrough();
        streams.push(stream);
        return Promise.resolve(stream);
      },
    };
    return { docker: docker as unknown as Docker, calls, streams };
  };

  const until = async (check: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  };

  it('reconnects from just before the last event and drops the replayed ones, keeping out-of-order ones', async () => {
    const { docker, calls, streams } = fakeDocker();
    const seen: string[] = [];
    const watch = new DockerEventWatch(
      {
        docker,
        providerId,
        connectTimeoutMs: 1_000,
        initialBackoffMs: 1,
        maxBackoffMs: 5,
        now: () => 1_000_000,
        logger: silentLogger,
      },
      (e) => seen.push('resourceId' in e ? `${e.resourceId}:${e.type}` : e.type),
    );
    try {
      await until(() => streams.length === 1);
      expect(calls[0]).toEqual({});
      streams[0]?.write(line('a', 'start', 100, 500));
      streams[0]?.write(line('b', 'start', 100, 400)); // published a moment out of order
      streams[0]?.end(line('a', 'die', 101));
      await until(() => streams.length === 2);
      expect(calls[1]).toEqual({ since: 100 });
      streams[1]?.write(line('a', 'start', 100, 500) + line('b', 'start', 100, 400));
      streams[1]?.write(line('a', 'die', 101) + line('b', 'die', 102));
      await until(() => seen.length >= 5);
      // The reconnection is announced, so the manager reconciles what the gap may hide.
      expect(seen).toEqual(['a:started', 'b:started', 'a:exited', 'resynced', 'b:exited']);
    } finally {
      watch.close();
    }
  });
});
