import type { LifecycleEvent } from '@hodei/domain';
import { sql } from 'kysely';
import { type Result } from 'neverthrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventBus } from '../event-bus.js';
import {
  createTestEventBus,
  refuseEventsOf,
  storedEventIds,
  type TestEventBus,
} from '../testing/index.js';
import type { AppendError } from './event-store.errors.js';
import type { AppendedEvent } from './postgres-event-store.js';

let counter = 0;
const busy = (workerId: string, providerId = 'p-group'): LifecycleEvent => {
  counter += 1;
  return {
    eventId: `01950000-0000-7000-8000-${counter.toString(16).padStart(12, '0')}`,
    type: 'WorkerEphemeralBusy',
    occurredAt: new Date(Date.UTC(2025, 0, 1) + counter).toISOString(),
    providerId,
    workerId,
    actor: 'api',
  };
};

describe('group commit of concurrent appends, against the real PostgreSQL', () => {
  // One group at a time: everything queued goes together. `lanes` spreads over three.
  let t: TestEventBus;
  let lanes: PostgresEventBus;

  beforeAll(async () => {
    t = await createTestEventBus('group', { maxGroupsInFlight: 1 });
    lanes = PostgresEventBus.create({
      connectionString: t.url,
      schema: t.schema,
      listen: false,
      maxGroupsInFlight: 3,
    })._unsafeUnwrap();
    await refuseEventsOf(t, 'p-poison');
  });

  afterAll(async () => {
    await lanes?.close();
    await t?.drop();
  });

  const storedIds = () => storedEventIds(t);

  const positionsOf = async (streamId: string): Promise<string[]> => {
    const res = await sql<{ event_id: string }>`
      SELECT event_id::text AS event_id FROM ${sql.id(t.schema, 'events')}
      WHERE stream_id = ${streamId} ORDER BY stream_position`.execute(t.bus.db);
    return res.rows.map((r) => r.event_id);
  };

  it('commits appends made together as one transaction and answers each with its own position', async () => {
    const events = Array.from({ length: 20 }, (_, i) => busy(`w-together-${i % 5}`));
    const results = await Promise.all(events.map((e) => t.bus.store.append(e)));
    const appended = results.map((r) => r._unsafeUnwrap());
    expect(appended.map((a) => a.eventId)).toEqual(events.map((e) => e.eventId));
    expect(new Set(appended.map((a) => a.transactionId)).size).toBe(1);
    expect(appended.every((a) => !a.duplicate)).toBe(true);
    const stored = (await t.bus.store.readFrom(null, { limit: 10_000 }))._unsafeUnwrap();
    for (const a of appended) {
      const s = stored.find((x) => x.event.eventId === a.eventId);
      expect(s).toEqual(
        expect.objectContaining({
          streamId: a.streamId,
          streamPosition: a.streamPosition,
          globalPosition: a.globalPosition,
          transactionId: a.transactionId,
        }),
      );
    }
    expect(
      appended.filter((a) => a.streamId === 'worker:w-together-0').map((a) => a.streamPosition),
    ).toEqual([1, 2, 3, 4]);
  });

  it('bounds a group by its event count, and never splits a caller’s batch', async () => {
    const small = await createTestEventBus('groupmax', { maxGroupEvents: 5, notify: false });
    try {
      const singles = Array.from({ length: 20 }, (_, i) => busy(`w-bound-${i}`));
      const big = Array.from({ length: 12 }, () => busy('w-bound-big'));
      const [batch, ...rest] = await Promise.all([
        small.bus.store.appendBatch(big),
        ...singles.map((e) => small.bus.store.append(e)),
      ]);
      const inBatch = batch?._unsafeUnwrap() ?? [];
      expect(new Set(inBatch.map((a) => a.transactionId)).size).toBe(1);
      const perTransaction = new Map<string, number>();
      for (const r of rest) {
        const a = r._unsafeUnwrap();
        expect(inBatch.some((b) => b.transactionId === a.transactionId)).toBe(false);
        perTransaction.set(a.transactionId, (perTransaction.get(a.transactionId) ?? 0) + 1);
      }
      expect(Math.max(...perTransaction.values())).toBeLessThanOrEqual(5);
      expect(perTransaction.size).toBeLessThan(20);
    } finally {
      await small.drop();
    }
  });

  it('keeps each stream in call order when many callers append without waiting', async () => {
    const streams = Array.from({ length: 6 }, (_, i) => `w-order-${i}`);
    const called: LifecycleEvent[] = [];
    const pending: PromiseLike<Result<AppendedEvent[], AppendError>>[] = [];
    for (let i = 0; i < 150; i += 1) {
      const stream = streams[(i * 7 + Math.floor(i / 11)) % streams.length] ?? 'w-order-0';
      const batch =
        i % 10 === 0
          ? [busy(stream), busy(streams[(i + 1) % streams.length] ?? stream)]
          : [busy(stream)];
      called.push(...batch);
      pending.push(lanes.store.appendBatch(batch));
      // Spread the calls over ticks, so they meet groups in flight and queue behind them.
      if (i % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all(pending);
    for (const r of results) expect(r.isOk()).toBe(true);
    const transactions = new Set(
      results.flatMap((r) => r._unsafeUnwrap().map((a) => a.transactionId)),
    );
    expect(transactions.size).toBeLessThan(results.length);
    for (const stream of streams) {
      const want = called
        .filter((e) => 'workerId' in e && e.workerId === stream)
        .map((e) => e.eventId);
      expect(await positionsOf(`worker:${stream}`)).toEqual(want);
    }
  });

  it('stores one copy of an id repeated within a group and answers each repeat with it', async () => {
    const earlier = busy('w-dup-a');
    const original = (await t.bus.store.append(earlier))._unsafeUnwrap();
    const y = busy('w-dup-b');
    const z = busy('w-dup-c');
    const before = (await storedIds()).size;
    const [a, b, c, d] = await Promise.all([
      t.bus.store.appendBatch([y, y]),
      t.bus.store.append(y),
      t.bus.store.append(earlier),
      t.bus.store.append(z),
    ]);
    const [yFirst, yAgain] = a?._unsafeUnwrap() ?? [];
    expect(yFirst).toEqual(expect.objectContaining({ eventId: y.eventId, duplicate: false }));
    expect(yAgain).toEqual({ ...yFirst, duplicate: true });
    expect(b?._unsafeUnwrap()).toEqual({ ...yFirst, duplicate: true });
    expect(c?._unsafeUnwrap()).toEqual({ ...original, duplicate: true });
    const zOut = d?._unsafeUnwrap();
    expect(zOut).toEqual(
      expect.objectContaining({ duplicate: false, transactionId: yFirst?.transactionId }),
    );
    expect((await storedIds()).size).toBe(before + 2);
    expect(await positionsOf('worker:w-dup-b')).toEqual([y.eventId]);
  });

  it('fails only the caller whose event the server refuses; the others commit', async () => {
    const good = Array.from({ length: 10 }, (_, i) => [busy(`w-poison-${i}`)]);
    const poisoned = [busy('w-poison-x', 'p-poison')];
    const mixed = [busy('w-poison-y'), busy('w-poison-y', 'p-poison')];
    const calls = [...good.slice(0, 5), poisoned, mixed, ...good.slice(5)];
    const results = await Promise.all(calls.map((events) => t.bus.store.appendBatch(events)));
    const stored = await storedIds();
    calls.forEach((events, i) => {
      const result = results[i];
      if (events === poisoned || events === mixed) {
        expect(result?.isErr() && result.error.type).toBe('EventStoreFailure');
        for (const e of events) expect(stored.has(e.eventId)).toBe(false);
      } else {
        expect(result?._unsafeUnwrap()).toEqual([
          expect.objectContaining({ eventId: events[0]?.eventId, duplicate: false }),
        ]);
        expect(stored.has(events[0]?.eventId ?? '')).toBe(true);
      }
    });
  });
});
