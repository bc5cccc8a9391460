import { silentLogger } from '@hodei/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyChannel } from '../schema/migrations.js';
import {
  createTestEventBus,
  startTcpProxy,
  type TcpProxy,
  type TestEventBus,
  waitUntil,
} from '../testing/index.js';
import { WakeUpListener } from './wake-up-listener.js';

describe('WakeUpListener', () => {
  let t: TestEventBus;
  let proxy: TcpProxy;

  beforeAll(async () => {
    t = await createTestEventBus('listen');
    const url = new URL(t.url);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
  });

  afterAll(async () => {
    await proxy?.close();
    await t?.drop();
  });

  const notify = () => sql`SELECT pg_notify(${notifyChannel(t.schema)}, '')`.execute(t.bus.db);

  it('detects a half-open connection by its heartbeat, listens again and wakes everyone', async () => {
    const listener = new WakeUpListener({
      connectionString: proxy.rewrite(t.url),
      channel: notifyChannel(t.schema),
      logger: silentLogger,
      initialBackoffMs: 20,
      heartbeatMs: 100,
      heartbeatTimeoutMs: 200,
    });
    let wakes = 0;
    listener.onWake(() => (wakes += 1));
    listener.start();
    await waitUntil(() => listener.state === 'listening' && wakes === 1, 'the first LISTEN');
    await notify();
    await waitUntil(() => wakes === 2, 'a notification');

    proxy.blackhole();
    await waitUntil(() => listener.reconnects === 1, 'the heartbeat to notice and reconnect');
    await waitUntil(() => listener.state === 'listening', 'LISTEN again');
    const afterReconnect = wakes;
    expect(afterReconnect).toBeGreaterThanOrEqual(3);
    await notify();
    await waitUntil(() => wakes > afterReconnect, 'a notification on the new connection');
    await listener.close();
    expect(listener.state).toBe('closed');
  });

  it('keeps retrying while the database is unreachable and listens once it is back', async () => {
    proxy.down();
    const listener = new WakeUpListener({
      connectionString: proxy.rewrite(t.url),
      channel: notifyChannel(t.schema),
      logger: silentLogger,
      initialBackoffMs: 20,
      maxBackoffMs: 100,
    });
    listener.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(listener.state).toBe('connecting');
    proxy.up();
    await waitUntil(() => listener.state === 'listening', 'LISTEN after the outage');
    await listener.close();
  });
});
