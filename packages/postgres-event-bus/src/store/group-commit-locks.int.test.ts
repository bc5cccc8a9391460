import type { LifecycleEvent } from '@hodei/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventBus } from '../event-bus.js';
import {
  createTestEventBus,
  type PrivateCluster,
  startPrivateCluster,
  type TestEventBus,
  waitUntil,
} from '../testing/index.js';

let counter = 0;
const busy = (workerId: string, eventId?: string): LifecycleEvent => {
  counter += 1;
  return {
    eventId: eventId ?? `01980000-0000-7000-8000-${counter.toString(16).padStart(12, '0')}`,
    type: 'WorkerEphemeralBusy',
    occurredAt: new Date(Date.UTC(2025, 0, 1) + counter).toISOString(),
    providerId: 'p-locks',
    workerId,
    actor: 'api',
  };
};

// On a private cluster: the caller's transaction held open would hold back every reader of
// the shared database (they stop at the oldest running transaction).
describe('group commit beside a caller’s open transaction, and close()', () => {
  let cluster: PrivateCluster;
  let t: TestEventBus;
  const application = 'hodei-group-locks';

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    t = await createTestEventBus('grouplocks', {
      connectionString: cluster.url,
      applicationName: application,
      listen: false,
    });
  });

  afterAll(async () => {
    await t?.drop();
    await cluster?.destroy();
  });

  const streamOrder = async (workerId: string): Promise<string[]> => {
    const res = await sql<{ event_id: string }>`
      SELECT event_id::text AS event_id FROM ${sql.id(t.schema, 'events')}
      WHERE stream_id = ${`worker:${workerId}`} ORDER BY stream_position`.execute(t.bus.db);
    return res.rows.map((r) => r.event_id);
  };

  const waiting = async (event: string): Promise<boolean> => {
    const res = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE application_name = ${application} AND wait_event = ${event}`.execute(t.bus.db);
    return (res.rows[0]?.n ?? 0) > 0;
  };

  const settled = <T>(promise: PromiseLike<T>) => {
    const state: { done: boolean; value?: T } = { done: false };
    void promise.then((value) => {
      state.done = true;
      state.value = value;
    });
    return state;
  };

  it('commits the rest of a group at once when a caller’s open transaction holds one stream', async () => {
    const [a, b, c, d] = ['w-stall-a', 'w-stall-b', 'w-stall-c', 'w-stall-d'];
    const held = busy(b);
    const own = [busy(a), busy(b), busy(c), busy(d)];
    const results = await t.bus.db.transaction().execute(async (trx) => {
      (await t.bus.store.append(held, { executor: trx }))._unsafeUnwrap();
      // Groups {A, B} and {C, D}: B is busy until this transaction ends.
      const calls = own.map((e) => settled(t.bus.store.append(e)));
      const others = [calls[0], calls[2], calls[3]];
      await waitUntil(() => others.every((s) => s?.done === true), 'A, C and D committed');
      expect(others.map((s) => s?.value?.isOk())).toEqual([true, true, true]);
      expect(calls[1]?.done).toBe(false);
      return calls;
    });
    await waitUntil(() => results[1]?.done === true, 'B after the commit');
    expect(results[1]?.value?.isOk()).toBe(true);
    expect(await streamOrder(b)).toEqual([held.eventId, own[1]?.eventId]);
  });

  it('answers a group killed by a deadlock with each caller’s own append, in order', async () => {
    const [a, c, d] = ['w-dl-a', 'w-dl-c', 'w-dl-d'];
    const inTx = { x: busy('w-dl-x'), a: busy(a) };
    // The same event id as the transaction's uncommitted one, on a stream nobody holds: the
    // group's insert waits for that transaction to end.
    const again = busy('w-dl-y', inTx.x.eventId);
    const own = [busy(a), again, busy(c), busy(d)];
    let ownResults: Promise<Awaited<ReturnType<typeof t.bus.store.append>>[]> | undefined;
    await t.bus.db.transaction().execute(async (trx) => {
      (await t.bus.store.append(inTx.x, { executor: trx }))._unsafeUnwrap();
      ownResults = Promise.all(own.map((e) => t.bus.store.append(e)));
      await waitUntil(() => waiting('transactionid'), 'the group {A, Y} waiting for X');
      // Waiting for A, which the group holds: a deadlock, which PostgreSQL breaks by killing
      // the group (it has waited longer).
      (await t.bus.store.append(inTx.a, { executor: trx }))._unsafeUnwrap();
    });
    const results = (await ownResults) ?? [];
    expect(results.map((r) => (r.isOk() ? 'ok' : r.error.type))).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(results[1]?._unsafeUnwrap()).toEqual(
      expect.objectContaining({ duplicate: true, streamId: 'worker:w-dl-x' }),
    );
    expect(await streamOrder(a)).toEqual([inTx.a.eventId, own[0]?.eventId]);
  });

  it('lets the appends already called finish before close() ends the pool', async () => {
    const bus = PostgresEventBus.create({
      connectionString: cluster.url,
      schema: t.schema,
      listen: false,
    })._unsafeUnwrap();
    const first = busy('w-close');
    const second = busy('w-close');
    const one = bus.store.append(first);
    await new Promise((resolve) => setImmediate(resolve));
    const two = bus.store.append(second);
    const closing = bus.close();
    const [r1, r2] = await Promise.all([one, two]);
    await closing;
    expect(r1?.isOk() && r2?.isOk()).toBe(true);
    expect(await streamOrder('w-close')).toEqual([first.eventId, second.eventId]);
    const after = await bus.store.append(busy('w-close'));
    expect(after.isErr()).toBe(true);
  });
});
