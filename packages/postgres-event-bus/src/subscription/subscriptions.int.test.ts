import type { LifecycleEvent } from '@hodei/domain';
import { sql } from 'kysely';
import { errAsync } from 'neverthrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventBus } from '../event-bus.js';
import type { StoredEvent } from '../store/event-row.js';
import {
  createTestEventBus,
  startTcpProxy,
  type TestEventBus,
  waitUntil,
} from '../testing/index.js';

let n = 0;
const ready = (workerId: string): LifecycleEvent => {
  n += 1;
  return {
    eventId: `01920000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
    type: 'WorkerEphemeralReady',
    occurredAt: '2025-03-01T00:00:00.000Z',
    providerId: 'p-sub',
    workerId,
  };
};

describe('subscriptions against the real PostgreSQL', () => {
  let t: TestEventBus;

  beforeAll(async () => {
    t = await createTestEventBus('subs');
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('delivers appended events in order and resumes from its stored checkpoint', async () => {
    const seen: string[] = [];
    const events = [ready('w-a'), ready('w-b'), ready('w-a')];
    await t.bus.store.appendBatch(events);
    const handle = t.bus.subscriptions
      .subscribe({ name: 'order', handler: (s) => void seen.push(s.event.eventId) })
      ._unsafeUnwrap();
    await waitUntil(() => seen.length === 3, 'three deliveries');
    expect(seen).toEqual(events.map((e) => e.eventId));
    await handle.stop();
    const more = [ready('w-c')];
    await t.bus.store.appendBatch(more);
    const again = t.bus.subscriptions
      .subscribe({ name: 'order', handler: (s) => void seen.push(s.event.eventId) })
      ._unsafeUnwrap();
    await waitUntil(() => seen.length === 4, 'the fourth delivery');
    expect(seen.slice(3)).toEqual(more.map((e) => e.eventId));
    await again.stop();
  });

  it('starts a new subscription at the end when asked to', async () => {
    await t.bus.store.append(ready('w-old'));
    const seen: string[] = [];
    const handle = t.bus.subscriptions
      .subscribe({ name: 'from-end', from: 'end', handler: (s) => void seen.push(s.event.eventId) })
      ._unsafeUnwrap();
    await waitUntil(() => handle.state().active, 'the lease');
    const fresh = ready('w-new');
    await t.bus.store.append(fresh);
    await waitUntil(() => seen.length > 0, 'a delivery');
    expect(seen).toEqual([fresh.eventId]);
    await handle.stop();
  });

  it('retries a failing event, then dead-letters it and moves on; a replay delivers it again', async () => {
    const poison = ready('w-poison');
    const next = ready('w-after');
    const attempts: number[] = [];
    const delivered: string[] = [];
    let healed = false;
    const handle = t.bus.subscriptions
      .subscribe({
        name: 'dlq',
        retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 },
        handler: (s, ctx) => {
          if (s.event.eventId === poison.eventId && !healed) {
            attempts.push(ctx.attempt);
            return errAsync({ type: 'Refused' });
          }
          delivered.push(s.event.eventId);
          return undefined;
        },
      })
      ._unsafeUnwrap();
    await t.bus.store.appendBatch([poison, next]);
    await waitUntil(() => delivered.includes(next.eventId), 'the event after the poison one');
    expect(attempts).toEqual([1, 2, 3]);
    const letters = (await t.bus.subscriptions.deadLetters('dlq'))._unsafeUnwrap();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ eventId: poison.eventId, attempts: 3, resolved: false });
    expect(letters[0]?.error).toContain('Refused');
    healed = true;
    expect((await t.bus.subscriptions.replayDeadLetters('dlq'))._unsafeUnwrap()).toBe(1);
    await waitUntil(() => delivered.includes(poison.eventId), 'the replayed event');
    await waitUntil(
      async () =>
        (await t.bus.subscriptions.deadLetters('dlq'))._unsafeUnwrap()[0]?.resolved === true,
      'the dead letter resolved',
    );
    await handle.stop();
  });

  it('aborts a handler that hangs past its timeout, and retries it', async () => {
    const event = ready('w-hang');
    const signals: AbortSignal[] = [];
    let done = false;
    const handle = t.bus.subscriptions
      .subscribe({
        name: 'hang',
        from: 'end',
        handlerTimeoutMs: 100,
        retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 10 },
        handler: (s, ctx) => {
          if (s.event.eventId !== event.eventId) return undefined;
          signals.push(ctx.signal);
          if (ctx.attempt === 1) {
            return new Promise<void>((_, reject) => {
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
            });
          }
          done = true;
          return undefined;
        },
      })
      ._unsafeUnwrap();
    await waitUntil(() => handle.state().active, 'the lease');
    await t.bus.store.append(event);
    await waitUntil(() => done, 'the retry');
    expect(signals[0]?.aborted).toBe(true);
    expect(String(signals[0]?.reason)).toMatch(/timed out after 100 ms/);
    expect(signals[1]?.aborted).toBe(false);
    await handle.stop();
  });

  it('keeps delivering to other subscriptions while one retries a poison event', async () => {
    const poison = ready('w-p2');
    const good: string[] = [];
    const stuck = t.bus.subscriptions
      .subscribe({
        name: 'stuck',
        from: 'end',
        retry: { maxAttempts: 100, initialDelayMs: 1_000, maxDelayMs: 1_000 },
        handler: () => {
          throw new Error('always fails');
        },
      })
      ._unsafeUnwrap();
    const healthy = t.bus.subscriptions
      .subscribe({ name: 'healthy', from: 'end', handler: (s) => void good.push(s.event.eventId) })
      ._unsafeUnwrap();
    await waitUntil(() => stuck.state().active && healthy.state().active, 'both leases');
    const later = [ready('w-p3'), ready('w-p4')];
    await t.bus.store.append(poison);
    await t.bus.store.appendBatch(later);
    await waitUntil(() => stuck.state().failures > 0, 'the poison event to fail');
    await waitUntil(() => good.length === 3, 'the healthy subscription');
    expect(stuck.state().delivered).toBe(0);
    await stuck.stop();
    await healthy.stop();
  });

  it('lets one consumer at a time hold a subscription, and hands over when it stops', async () => {
    const other = PostgresEventBus.create({
      connectionString: t.url,
      schema: t.schema,
    })._unsafeUnwrap();
    const seenA: StoredEvent[] = [];
    const seenB: StoredEvent[] = [];
    const a = t.bus.subscriptions
      .subscribe({ name: 'single', from: 'end', handler: (s) => void seenA.push(s) })
      ._unsafeUnwrap();
    await waitUntil(() => a.state().active, 'A holds the lease');
    const b = other.subscriptions
      .subscribe({ name: 'single', handler: (s) => void seenB.push(s), leaseMs: 600 })
      ._unsafeUnwrap();
    const first = [ready('w-l1'), ready('w-l2')];
    await t.bus.store.appendBatch(first);
    await waitUntil(() => seenA.length === 2, 'A delivers');
    expect(b.state().active).toBe(false);
    expect(seenB).toEqual([]);
    await a.stop();
    await waitUntil(() => b.state().active, 'B takes over', 10_000);
    const second = [ready('w-l3')];
    await t.bus.store.appendBatch(second);
    await waitUntil(() => seenB.length === 1, 'B delivers');
    expect(seenB.map((s) => s.event.eventId)).toEqual(second.map((e) => e.eventId));
    await b.stop();
    await other.close();
  });

  it('hands a subscription over when its consumer vanishes and its lease expires', async () => {
    const target = new URL(t.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const vanishing = PostgresEventBus.create({
      connectionString: proxy.rewrite(t.url),
      schema: t.schema,
      listen: false,
    })._unsafeUnwrap();
    const other = PostgresEventBus.create({
      connectionString: t.url,
      schema: t.schema,
    })._unsafeUnwrap();
    const seenA: string[] = [];
    const seenB: string[] = [];
    const a = vanishing.subscriptions
      .subscribe({
        name: 'expiry',
        from: 'end',
        leaseMs: 600,
        handler: (s) => void seenA.push(s.event.eventId),
      })
      ._unsafeUnwrap();
    await waitUntil(() => a.state().active, 'A holds the lease');
    const b = other.subscriptions
      .subscribe({ name: 'expiry', leaseMs: 600, handler: (s) => void seenB.push(s.event.eventId) })
      ._unsafeUnwrap();
    const first = ready('w-e1');
    await t.bus.store.append(first);
    await waitUntil(() => seenA.length === 1, 'A delivers');
    // A's checkpoint after that delivery is committed before A vanishes: without it B would
    // rightly deliver the first event again (at least once).
    await waitUntil(async () => {
      const res = await sql<{ stored: boolean }>`
        SELECT s.checkpoint_position >= e.global_position AS stored
          FROM ${sql.id(t.schema, 'subscriptions')} s, ${sql.id(t.schema, 'events')} e
         WHERE s.name = 'expiry' AND e.event_id = ${first.eventId}`.execute(t.bus.db);
      return res.rows[0]?.stored === true;
    }, "A's checkpoint is stored");
    proxy.down();
    const second = ready('w-e2');
    await t.bus.store.append(second);
    await waitUntil(() => b.state().active, 'B takes over after the lease expired', 10_000);
    await waitUntil(() => seenB.includes(second.eventId), 'B delivers');
    expect(seenB).not.toContain(first.eventId);
    proxy.up();
    await waitUntil(() => !a.state().active, 'A notices it lost the lease', 10_000);
    await t.bus.store.append(ready('w-e3'));
    await waitUntil(() => seenB.length === 2, 'B keeps delivering');
    expect(seenA).toEqual([first.eventId]);
    await b.stop();
    await a.stop();
    await Promise.all([vanishing.close(), other.close()]);
    await proxy.close();
  });

  it('delivers by polling alone when NOTIFY and LISTEN are off', async () => {
    const quiet = PostgresEventBus.create({
      connectionString: t.url,
      schema: t.schema,
      notify: false,
      listen: false,
    })._unsafeUnwrap();
    const seen: string[] = [];
    const handle = quiet.subscriptions
      .subscribe({ name: 'polling', from: 'end', handler: (s) => void seen.push(s.event.eventId) })
      ._unsafeUnwrap();
    await waitUntil(() => handle.state().active, 'the lease');
    const event = ready('w-poll');
    await quiet.store.append(event);
    await waitUntil(() => seen.length === 1, 'a polled delivery');
    expect(seen).toEqual([event.eventId]);
    expect(quiet.subscriptions.listener).toBeNull();
    await handle.stop();
    await quiet.close();
  });

  it('opens one listener connection for all the subscriptions of a bus', async () => {
    const app = `hodei-budget-${Math.random().toString(16).slice(2, 8)}`;
    const bus = PostgresEventBus.create({
      connectionString: t.url,
      schema: t.schema,
      applicationName: app,
    })._unsafeUnwrap();
    const handles = [1, 2, 3, 4, 5].map((i) =>
      bus.subscriptions
        .subscribe({ name: `budget-${i}`, handler: () => undefined })
        ._unsafeUnwrap(),
    );
    await waitUntil(() => bus.subscriptions.listener?.state === 'listening', 'the listener');
    const res = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${`${app}-listener`}`.execute(
      t.bus.db,
    );
    expect(res.rows[0]?.n).toBe(1);
    await Promise.all(handles.map((h) => h.stop()));
    await bus.close();
  });

  it('refuses a second subscription of the same name in one process', () => {
    const a = t.bus.subscriptions.subscribe({ name: 'dup', handler: () => undefined });
    const b = t.bus.subscriptions.subscribe({ name: 'dup', handler: () => undefined });
    expect(b.isErr() && b.error.type).toBe('SubscriptionAlreadyRunning');
    return a._unsafeUnwrap().stop();
  });
});
