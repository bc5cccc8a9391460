import type { LifecycleEvent, WorkerEphemeralReady } from '@hodei/domain';
import { sampleEvents } from '@hodei/domain/testing';
import { sql } from 'kysely';
import { err, errAsync, ok } from 'neverthrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventBus } from '../event-bus.js';
import { createTestEventBus, type TestEventBus } from '../testing/index.js';
import { PostgresEventStore } from './postgres-event-store.js';
import { runInTransaction } from './run-in-transaction.js';

let counter = 0;
/** An event id unique within this file. */
const nextId = (): string => {
  counter += 1;
  return `01900000-0000-7000-8000-${counter.toString(16).padStart(12, '0')}`;
};

const ready = (workerId: string, providerId = 'p-store'): WorkerEphemeralReady => ({
  eventId: nextId(),
  type: 'WorkerEphemeralReady',
  occurredAt: '2025-02-01T10:00:00.000Z',
  providerId,
  workerId,
  actor: 'api',
});

describe('PostgresEventStore against the real PostgreSQL', () => {
  let t: TestEventBus;

  beforeAll(async () => {
    t = await createTestEventBus('store');
  });

  afterAll(async () => {
    await t?.drop();
  });

  const count = async (): Promise<number> => {
    const res = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM ${sql.id(t.schema, 'events')}`.execute(t.bus.db);
    return res.rows[0]?.n ?? -1;
  };

  it('appends every event type and reads each back with all its fields, in order', async () => {
    const events = sampleEvents('p-round', 'w-round');
    const appended = (await t.bus.store.appendBatch(events))._unsafeUnwrap();
    expect(appended.map((a) => a.eventId)).toEqual(events.map((e) => e.eventId));
    expect(appended.every((a) => !a.duplicate)).toBe(true);
    const worker = (await t.bus.store.eventsOfWorker('w-round'))._unsafeUnwrap();
    const gc = new Set(['GarbageCollectionCompleted', 'OrphanWorkerDetected']);
    expect(worker.map((s) => s.event)).toEqual(events.filter((e) => !gc.has(e.type)));
    expect(worker.map((s) => s.streamPosition)).toEqual(worker.map((_, i) => i + 1));
    const all = (await t.bus.store.readFrom(null))._unsafeUnwrap();
    expect(all.map((s) => s.event)).toEqual(events);
    const provider = all.filter((s) => s.streamId === 'provider:p-round');
    expect(provider.map((s) => s.event.type)).toEqual([
      'OrphanWorkerDetected',
      'GarbageCollectionCompleted',
    ]);
  });

  it('returns the original position when an event is appended again, and writes nothing', async () => {
    const event = ready('w-idem');
    const first = (await t.bus.store.append(event))._unsafeUnwrap();
    const before = await count();
    const again = (await t.bus.store.append(event))._unsafeUnwrap();
    expect(again).toEqual({ ...first, duplicate: true });
    const inBatch = (await t.bus.store.appendBatch([event, ready('w-idem')]))._unsafeUnwrap();
    expect(inBatch[0]).toEqual({ ...first, duplicate: true });
    expect(inBatch[1]?.streamPosition).toBe(first.streamPosition + 1);
    expect(await count()).toBe(before + 1);
  });

  it('keeps one copy of an event that appears twice in one batch', async () => {
    const event = ready('w-twice');
    const out = (await t.bus.store.appendBatch([event, event]))._unsafeUnwrap();
    expect(out[0]?.duplicate).toBe(false);
    expect(out[1]).toEqual({ ...out[0], duplicate: true });
    expect((await t.bus.store.eventsOfWorker('w-twice'))._unsafeUnwrap()).toHaveLength(1);
  });

  it('checks the expected version and writes nothing when it is wrong', async () => {
    const a = (await t.bus.store.append(ready('w-ver'), { expectedVersion: 0 }))._unsafeUnwrap();
    expect(a.streamPosition).toBe(1);
    const before = await count();
    const wrong = await t.bus.store.appendBatch([ready('w-ver'), ready('w-ver')], {
      expectedVersion: 0,
    });
    expect(wrong).toEqual(
      err(
        expect.objectContaining({
          type: 'WrongExpectedVersion',
          streamId: 'worker:w-ver',
          expectedVersion: 0,
          actualVersion: 1,
        }),
      ),
    );
    expect(await count()).toBe(before);
    const right = (
      await t.bus.store.append(ready('w-ver'), { expectedVersion: 1 })
    )._unsafeUnwrap();
    expect(right.streamPosition).toBe(2);
  });

  it('checks the expected version of a single append the same way with and without the pool', async () => {
    const builderOnly = new PostgresEventStore({ db: t.bus.db, schema: t.schema, notify: false });
    for (const [store, worker] of [
      [t.bus.store, 'w-ver1-pool'],
      [builderOnly, 'w-ver1-builder'],
    ] as const) {
      const first = ready(worker);
      const a = (await store.append(first, { expectedVersion: 0 }))._unsafeUnwrap();
      expect(a).toEqual(expect.objectContaining({ streamPosition: 1, duplicate: false }));
      const before = await count();
      expect(await store.append(ready(worker), { expectedVersion: 0 })).toEqual(
        err(
          expect.objectContaining({
            type: 'WrongExpectedVersion',
            streamId: `worker:${worker}`,
            expectedVersion: 0,
            actualVersion: 1,
          }),
        ),
      );
      expect(await count()).toBe(before);
      // A re-append returns the original even with a stale expected version.
      expect((await store.append(first, { expectedVersion: 0 }))._unsafeUnwrap()).toEqual({
        ...a,
        duplicate: true,
      });
      const invalid = await store.append(ready(worker), { expectedVersion: -1 });
      expect(invalid.isErr() && invalid.error.type).toBe('InvalidAppend');
      const next = (
        await store.appendBatch([ready(worker)], { expectedVersion: 1 })
      )._unsafeUnwrap();
      expect(next[0]?.streamPosition).toBe(2);
    }
  });

  it('refuses an expected version across several streams', async () => {
    const r = await t.bus.store.appendBatch([ready('w-x1'), ready('w-x2')], { expectedVersion: 0 });
    expect(r.isErr() && r.error.type).toBe('InvalidAppend');
  });

  it('refuses an event over the size limit with EventTooLarge and writes nothing', async () => {
    const before = await count();
    const big: LifecycleEvent = {
      ...ready('w-big'),
      type: 'WorkerEphemeralFailed',
      error: 'x'.repeat(70_000),
    };
    const r = await t.bus.store.appendBatch([ready('w-big'), big]);
    expect(r).toEqual(
      err(
        expect.objectContaining({
          type: 'EventTooLarge',
          eventId: big.eventId,
          limitBytes: 65_536,
        }),
      ),
    );
    expect(await count()).toBe(before);
  });

  it('refuses non-serialisable data with EventNotSerializable naming the field', async () => {
    const before = await count();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    const cases: [unknown, string][] = [
      [10n, 'event.error'],
      [() => 1, 'event.error'],
      [Number.NaN, 'event.error'],
      ['nul \u0000 byte', 'event.error'],
      [cyclic, 'event.error.self'],
      [new Map(), 'event.error'],
    ];
    for (const [value, path] of cases) {
      const bad = {
        ...ready('w-bad'),
        type: 'WorkerEphemeralFailed',
        error: value,
      } as unknown as LifecycleEvent;
      const r = await t.bus.store.append(bad);
      expect(r).toEqual(err(expect.objectContaining({ type: 'EventNotSerializable', path })));
    }
    const notUuid = await t.bus.store.append({ ...ready('w-bad'), eventId: 'not-a-uuid' });
    expect(notUuid.isErr() && notUuid.error.type).toBe('InvalidEvent');
    const badTime = await t.bus.store.append({ ...ready('w-bad'), occurredAt: 'yesterday' });
    expect(badTime.isErr() && badTime.error.type).toBe('InvalidEvent');
    expect(await count()).toBe(before);
  });

  it("appends inside a caller's transaction: committed on Ok, rolled back on Err", async () => {
    const kept = ready('w-trx');
    const dropped = ready('w-trx');
    const okRun = await runInTransaction(t.bus.db, (trx) =>
      t.bus.store.append(kept, { executor: trx }),
    );
    expect(okRun.isOk()).toBe(true);
    const errRun = await runInTransaction(t.bus.db, (trx) =>
      t.bus.store
        .append(dropped, { executor: trx })
        .andThen(() => errAsync({ type: 'CallerFailed' as const })),
    );
    expect(errRun).toEqual(err({ type: 'CallerFailed' }));
    const thrown = await runInTransaction(t.bus.db, async (trx) => {
      await t.bus.store.append(dropped, { executor: trx });
      throw new Error('boom');
    });
    expect(thrown).toEqual(err(expect.objectContaining({ type: 'EventStoreFailure' })));
    const ids = (await t.bus.store.eventsOfWorker('w-trx'))
      ._unsafeUnwrap()
      .map((s) => s.event.eventId);
    expect(ids).toEqual([kept.eventId]);
  });

  it('reads from a cursor only the events after it, and rejects a foreign cursor', async () => {
    const head = (await t.bus.store.headCursor())._unsafeUnwrap();
    const events = [ready('w-cur'), ready('w-cur'), ready('w-cur')];
    await t.bus.store.appendBatch(events);
    const after = (await t.bus.store.readFrom(head))._unsafeUnwrap();
    expect(after.map((s) => s.event.eventId)).toEqual(events.map((e) => e.eventId));
    const rest = (await t.bus.store.readFrom(after[0]!.cursor))._unsafeUnwrap();
    expect(rest.map((s) => s.event.eventId)).toEqual(events.slice(1).map((e) => e.eventId));
    expect((await t.bus.store.readFrom('42')).isErr()).toBe(true);
  });

  it('holds back events committed after a still-open earlier writer, then delivers both in order', async () => {
    const head = (await t.bus.store.headCursor())._unsafeUnwrap();
    const late = ready('w-late');
    const early = ready('w-early');
    const trx = await t.bus.db.startTransaction().execute();
    (await t.bus.store.append(late, { executor: trx }))._unsafeUnwrap();
    (await t.bus.store.append(early))._unsafeUnwrap();
    expect((await t.bus.store.readFrom(head))._unsafeUnwrap()).toEqual([]);
    await trx.commit().execute();
    const after = (await t.bus.store.readFrom(head))._unsafeUnwrap();
    expect(after.map((s) => s.event.eventId)).toEqual([late.eventId, early.eventId]);
  });

  it('queries by type and by time range', async () => {
    const lost: LifecycleEvent = {
      eventId: nextId(),
      type: 'WorkerLost',
      occurredAt: '2031-05-05T05:05:05.000Z',
      providerId: 'p-q',
      workerId: 'w-q',
      resourceId: 'r',
      lastKnownState: 'busy',
    };
    await t.bus.store.append(lost);
    const byType = (await t.bus.store.eventsByType('WorkerLost'))._unsafeUnwrap();
    expect(byType.map((s) => s.event.eventId)).toContain(lost.eventId);
    expect(byType.every((s) => s.event.type === 'WorkerLost')).toBe(true);
    const inRange = (
      await t.bus.store.eventsInTimeRange('2031-05-05T00:00:00Z', '2031-05-06T00:00:00Z')
    )._unsafeUnwrap();
    expect(inRange.map((s) => s.event)).toEqual([lost]);
  });

  it('gives each worker its last state-changing event for the provider (WorkerEventHistory)', async () => {
    const busy: LifecycleEvent = { ...ready('w-h1', 'p-h'), type: 'WorkerEphemeralBusy' };
    const idle: LifecycleEvent = {
      ...ready('w-h1', 'p-h'),
      type: 'WorkerEphemeralIdle',
      idleSince: '2025-01-01T00:00:00.000Z',
    };
    const r2 = ready('w-h2', 'p-h');
    const other = ready('w-h3', 'p-other');
    await t.bus.store.appendBatch([ready('w-h1', 'p-h'), busy, idle]);
    await t.bus.store.appendBatch([r2]);
    await t.bus.store.appendBatch([other]);
    const last = (
      await t.bus.store.lastStateEvents('p-h', ['w-h1', 'w-h2', 'w-h3', 'w-none'])
    )._unsafeUnwrap();
    expect(last).toEqual(
      new Map<string, LifecycleEvent>([
        ['w-h1', busy],
        ['w-h2', r2],
      ]),
    );
  });

  it('migrates once when two processes start at once', async () => {
    const schema = `${t.schema}_m`;
    const buses = [0, 1, 2].map(() =>
      PostgresEventBus.create({ connectionString: t.url, schema })._unsafeUnwrap(),
    );
    const results = await Promise.all(buses.map((b) => b.ready()));
    expect(results).toEqual([ok(undefined), ok(undefined), ok(undefined)]);
    const res = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM ${sql.id(schema, 'migrations')}`.execute(t.bus.db);
    expect(res.rows[0]?.n).toBe(6);
    await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(t.bus.db);
    await Promise.all(buses.map((b) => b.close()));
  });

  it('refuses updates and deletes on the events table', async () => {
    await expect(sql`DELETE FROM ${sql.id(t.schema, 'events')}`.execute(t.bus.db)).rejects.toThrow(
      /insert-only/,
    );
  });
});
