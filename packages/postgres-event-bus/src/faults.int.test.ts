import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LifecycleEvent } from '@hodei/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventBus } from './event-bus.js';
import { EventBusPublisher } from './publisher/event-bus-publisher.js';
import type { StoredEvent } from './store/event-row.js';
import {
  createTestEventBus,
  type PrivateCluster,
  startPrivateCluster,
  waitUntil,
} from './testing/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const busy = (prefix: string, n: number, workerId: string): LifecycleEvent => ({
  eventId: `${prefix}-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
  type: 'WorkerEphemeralBusy',
  occurredAt: new Date(Date.UTC(2025, 0, 1) + n).toISOString(),
  providerId: 'p-fault',
  workerId,
});

const expectOncePerStreamInOrder = (
  received: readonly StoredEvent[],
  expected: readonly LifecycleEvent[],
) => {
  const ids = received.map((s) => s.event.eventId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(new Set(ids)).toEqual(new Set(expected.map((e) => e.eventId)));
  const byStream = new Map<string, string[]>();
  for (const s of received)
    byStream.set(s.streamId, [...(byStream.get(s.streamId) ?? []), s.event.eventId]);
  for (const [stream, got] of byStream) {
    const want = expected
      .filter((e) => `worker:${'workerId' in e ? e.workerId : ''}` === stream)
      .map((e) => e.eventId);
    expect(got).toEqual(want);
  }
};

describe('faults on a private PostgreSQL cluster', () => {
  let cluster: PrivateCluster;
  const dirs: string[] = [];

  beforeAll(async () => {
    cluster = await startPrivateCluster();
  });

  afterAll(async () => {
    await cluster?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('delivers every event once when the listener and pool connections are terminated mid-stream', async () => {
    const t = await createTestEventBus('term', { connectionString: cluster.url });
    const subscriber = PostgresEventBus.create({
      connectionString: cluster.url,
      schema: t.schema,
      applicationName: 'hodei-term-sub',
      listener: { initialBackoffMs: 50, maxBackoffMs: 200, heartbeatMs: 500 },
    })._unsafeUnwrap();
    const received: StoredEvent[] = [];
    const sub = subscriber.subscriptions
      .subscribe({ name: 'term', batchSize: 10, handler: (s) => void received.push(s) })
      ._unsafeUnwrap();
    const expected: LifecycleEvent[] = [];
    const terminate = () =>
      sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name LIKE 'hodei-term-sub%' AND pid <> pg_backend_pid()`.execute(
        t.bus.db,
      );
    await waitUntil(() => subscriber.subscriptions.listener?.state === 'listening', 'the listener');
    for (let batch = 0; batch < 40; batch += 1) {
      const events = [0, 1, 2].map((k) =>
        busy('01950000', batch * 3 + k + 1, `w-t${(batch + k) % 4}`),
      );
      expected.push(...events);
      for (;;) {
        if ((await t.bus.store.appendBatch(events)).isOk()) break;
        await sleep(20);
      }
      if (batch === 10 || batch === 25) await terminate();
      await sleep(5);
    }
    await waitUntil(() => received.length >= expected.length, `all ${expected.length} events`);
    await sleep(200);
    expectOncePerStreamInOrder(received, expected);
    expect(subscriber.subscriptions.listener?.reconnects).toBeGreaterThanOrEqual(1);
    await sub.stop();
    await subscriber.close();
    await t.drop();
  });

  it('loses nothing across a full restart while the publisher keeps publishing', async () => {
    const t = await createTestEventBus('restart', { connectionString: cluster.url });
    const dir = mkdtempSync(join(tmpdir(), 'hodei-restart-'));
    dirs.push(dir);
    const publisher = EventBusPublisher.open({
      bus: t.bus,
      spoolDirectory: dir,
      retryMs: 50,
      maxRetryMs: 200,
    })._unsafeUnwrap();
    const subscriber = PostgresEventBus.create({
      connectionString: cluster.url,
      schema: t.schema,
      listener: { initialBackoffMs: 50, maxBackoffMs: 200, heartbeatMs: 500 },
    })._unsafeUnwrap();
    const received: StoredEvent[] = [];
    const sub = subscriber.subscriptions
      .subscribe({ name: 'restart', handler: (s) => void received.push(s) })
      ._unsafeUnwrap();
    const expected: LifecycleEvent[] = [];
    let sawSpool = false;
    const restarting = (async () => {
      await sleep(150);
      await cluster.stop('immediate');
      await sleep(400);
      await cluster.start();
    })();
    for (let n = 1; n <= 150; n += 1) {
      const event = busy('01960000', n, `w-r${n % 3}`);
      expected.push(event);
      expect((await publisher.publish(event)).isOk()).toBe(true);
      sawSpool ||= publisher.state().spooledCount > 0;
      await sleep(5);
    }
    await restarting;
    expect(sawSpool).toBe(true);
    await waitUntil(async () => (await publisher.flush()).isOk(), 'the spool to drain');
    await waitUntil(() => received.length >= expected.length, `all ${expected.length} events`);
    await sleep(200);
    expectOncePerStreamInOrder(received, expected);
    const stored = (await t.bus.store.readFrom(null, { limit: 10_000 }))._unsafeUnwrap();
    expectOncePerStreamInOrder(stored, expected);
    await sub.stop();
    await subscriber.close();
    await publisher.close();
    await t.drop();
  });

  it('replays, exactly once and in order, what a publisher killed with SIGKILL had spooled', async () => {
    const t = await createTestEventBus('kill', { connectionString: cluster.url });
    const dir = mkdtempSync(join(tmpdir(), 'hodei-kill-'));
    dirs.push(dir);
    // node itself with tsx's loader, so SIGKILL hits the publishing process and not a wrapper.
    const node = (args: string[]) =>
      spawn(process.execPath, ['--import', 'tsx', script, ...args], {
        cwd: join(here, '..'),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    const script = join(here, 'testing', 'spooling-publisher.child.ts');
    await cluster.stop('fast');
    let acked = 0;
    const child = node([cluster.url, t.schema, dir, 'publish', '100000']);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const last = /ok (\d+)\n?$/.exec(chunk.trimEnd());
      if (last?.[1] !== undefined) acked = Number(last[1]);
    });
    try {
      await waitUntil(() => acked >= 200, 'the child to spool 200 events', 60_000);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    await cluster.start();
    const replay = node([cluster.url, t.schema, dir, 'replay']);
    let out = '';
    replay.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const code = await new Promise((resolve) => replay.once('exit', resolve));
    expect(code).toBe(0);
    expect(out).toContain('left 0');
    const stored = (
      await t.bus.store.eventsOfWorker('w-kill', { limit: 1_000_000 })
    )._unsafeUnwrap();
    const numbers = stored.map((s) => Number.parseInt(s.event.eventId.slice(-12), 16));
    expect(numbers.length).toBeGreaterThanOrEqual(acked);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    await t.drop();
  });
});
