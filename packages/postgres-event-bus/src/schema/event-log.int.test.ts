import { randomUUID } from 'node:crypto';
import type { LifecycleEvent } from '@hodei/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneEventsBefore } from '../prune-events-before.js';
import { PostgresEventStore } from '../store/postgres-event-store.js';
import { createTestEventBus, createTestSchema, type TestEventBus } from '../testing/index.js';
import { migrateSchema } from './migrations.js';

/** Migration 0005 against the real PostgreSQL: columns, indexes, views, comments, retention. */

const BASE = Date.parse('2025-05-01T00:00:00.000Z');
const at = (minutes: number): string => new Date(BASE + minutes * 60_000).toISOString();

type Fields = Record<string, unknown> & { readonly type: LifecycleEvent['type'] };

/** An event of `providerId` at `minutes` after BASE. */
const event = (providerId: string, minutes: number, fields: Fields): LifecycleEvent =>
  ({ eventId: randomUUID(), occurredAt: at(minutes), providerId, ...fields }) as LifecycleEvent;

const created = (p: string, workerId: string, minutes: number, mode = 'job') =>
  event(p, minutes, {
    type: 'WorkerEphemeralCreated',
    workerId,
    mode,
    image: 'busybox:1.36',
    resourceId: `r-${workerId}-${minutes}`,
    maxLifetimeSecs: 3600,
    ttlAfterCompletionSecs: 120,
    actor: 'api',
    correlationId: `create-${workerId}`,
  });
const ready = (p: string, workerId: string, minutes: number) =>
  event(p, minutes, { type: 'WorkerEphemeralReady', workerId, actor: 'watch' });
const terminated = (p: string, workerId: string, minutes: number, exitCode: number | null) =>
  event(p, minutes, {
    type: 'WorkerEphemeralTerminated',
    workerId,
    exitCode,
    forced: false,
    cleanupScheduled: true,
    ttlExpiresAt: at(minutes + 2),
    actor: 'watch',
  });
const cleanedUp = (p: string, workerId: string, minutes: number, reason = 'TtlExpired') =>
  event(p, minutes, {
    type: 'WorkerEphemeralCleanedUp',
    workerId,
    cleanupReason: reason,
    cleanupDurationMs: 15,
    actor: 'gc',
  });
const busy = (p: string, workerId: string, minutes: number) =>
  event(p, minutes, { type: 'WorkerEphemeralBusy', workerId, actor: 'api' });
const lost = (p: string, workerId: string, minutes: number) =>
  event(p, minutes, {
    type: 'WorkerLost',
    workerId,
    resourceId: `r-${workerId}-0`,
    lastKnownState: 'busy',
  });
const gcPass = (p: string, minutes: number, workersCleaned: number) =>
  event(p, minutes, {
    type: 'GarbageCollectionCompleted',
    workersCleaned,
    orphansDetected: 0,
    errors: 0,
    durationMs: 2,
    lifetimeExceeded: 0,
    idleTimedOut: 0,
    startupTimedOut: 0,
    forceTerminated: 0,
    ttlExpired: workersCleaned,
    actor: 'gc',
  });

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Index Name'?: string;
  readonly Plans?: readonly PlanNode[];
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/** The indexes the plan of `query` reads, with sequential scans off as the append functions. */
async function indexesUsed(t: TestEventBus, query: string): Promise<string[]> {
  return t.bus.db.connection().execute(async (conn) => {
    await sql`SET enable_seqscan = off`.execute(conn);
    try {
      const res = await sql<{ 'QUERY PLAN': { Plan: PlanNode }[] }>`
        EXPLAIN (FORMAT JSON) ${sql.raw(query)}`.execute(conn);
      const plan = res.rows[0]?.['QUERY PLAN'][0]?.Plan;
      return plan === undefined ? [] : nodesOf(plan).flatMap((n) => n['Index Name'] ?? []);
    } finally {
      await sql`RESET enable_seqscan`.execute(conn);
    }
  });
}

describe('the actor and correlation_id columns', () => {
  let t: TestEventBus;

  beforeAll(async () => {
    t = await createTestEventBus('evlog');
  });

  afterAll(async () => {
    await t?.drop();
  });

  const columnsOf = async (ids: readonly string[]) =>
    (
      await sql<{ event_id: string; actor: string | null; correlation_id: string | null }>`
        SELECT event_id::text AS event_id, actor, correlation_id FROM ${sql.id(t.schema, 'events')}
        WHERE event_id = ANY(${ids}::uuid[]) ORDER BY global_position`.execute(t.bus.db)
    ).rows;

  it('are filled on every append path: one event, a batch, a group commit, a caller transaction', async () => {
    const one = created('p-cols', 'w-one', 0);
    const batch = [created('p-cols', 'w-batch', 0), ready('p-cols', 'w-batch', 1)];
    const group = Array.from({ length: 8 }, (_, i) => created('p-cols', `w-group-${i}`, 0));
    const inTrx = ready('p-cols', 'w-one', 1);
    (await t.bus.store.append(one))._unsafeUnwrap();
    (await t.bus.store.appendBatch(batch))._unsafeUnwrap();
    const grouped = await Promise.all(group.map((e) => t.bus.store.append(e)));
    for (const r of grouped) r._unsafeUnwrap();
    await t.bus.db
      .transaction()
      .execute(async (trx) => (await t.bus.store.append(inTrx, { executor: trx }))._unsafeUnwrap());
    const all = [one, ...batch, ...group, inTrx];
    const rows = await columnsOf(all.map((e) => e.eventId));
    expect(rows).toEqual(
      all.map((e) => ({
        event_id: e.eventId,
        actor: e.actor ?? null,
        correlation_id: e.correlationId ?? null,
      })),
    );
  });

  it('are indexed: lookups by correlation id and by actor read their indexes', async () => {
    const s = `"${t.schema}".events`;
    expect(
      await indexesUsed(t, `SELECT * FROM ${s} WHERE correlation_id = 'create-w-one'`),
    ).toEqual(['events_correlation_id_idx']);
    expect(
      await indexesUsed(
        t,
        `SELECT * FROM ${s} WHERE actor = 'gc' AND time >= '2025-05-01T00:00:00Z'`,
      ),
    ).toEqual(['events_actor_time_idx']);
  });

  it('are filled from the JSON for the rows stored before the migration', async () => {
    const s = await createTestSchema('evlog_old');
    try {
      const first = await migrateSchema(s.db, s.name, '0004_append_id_lookup_and_group');
      expect(first.error).toBeUndefined();
      const db = s.db as typeof t.bus.db;
      const store = new PostgresEventStore({ db, schema: s.name, notify: false });
      const old = [created('p-old', 'w-old', 0), gcPass('p-old', 1, 0)];
      (await store.appendBatch(old))._unsafeUnwrap();
      const migrated = await migrateSchema(s.db, s.name);
      expect(migrated.error).toBeUndefined();
      expect(migrated.results?.map((r) => r.migrationName)).toEqual([
        '0005_event_log',
        '0006_webhooks',
      ]);
      const rows = await sql<{ actor: string; correlation_id: string | null }>`
        SELECT actor, correlation_id FROM ${sql.id(s.name, 'events')}
        ORDER BY global_position`.execute(s.db);
      expect(rows.rows).toEqual([
        { actor: 'api', correlation_id: 'create-w-old' },
        { actor: 'gc', correlation_id: null },
      ]);
    } finally {
      await s.drop();
    }
  });
});

describe('the analyst views and the comments', () => {
  let t: TestEventBus;
  const p = 'p-views';

  beforeAll(async () => {
    t = await createTestEventBus('evviews');
    (
      await t.bus.store.appendBatch([
        // A job that ran and exited 0, then was cleaned up after its TTL.
        created(p, 'w-job', 0),
        ready(p, 'w-job', 1),
        event(p, 1, { type: 'WorkerEphemeralBusy', workerId: 'w-job' }),
        terminated(p, 'w-job', 10, 0),
        cleanedUp(p, 'w-job', 12),
        // An agent terminated by the API, killed, cleaned up at once; then its id reused.
        created(p, 'w-agent', 0, 'agent'),
        ready(p, 'w-agent', 2),
        event(p, 5, {
          type: 'WorkerEphemeralTerminating',
          workerId: 'w-agent',
          reason: 'ManualTermination',
        }),
        terminated(p, 'w-agent', 6, 143),
        cleanedUp(p, 'w-agent', 6, 'NormalTermination'),
        created(p, 'w-agent', 20, 'agent'),
        // Lost: tracked (terminated) until its TTL or a DELETE cleans it up.
        created(p, 'w-lost', 0),
        ready(p, 'w-lost', 1),
        lost(p, 'w-lost', 3),
        terminated(p, 'w-lost', 3, null),
        // Cleaned up, then alive again under the same id, its new Created never stored.
        created(p, 'w9', 0),
        cleanedUp(p, 'w9', 10),
        ready(p, 'w9', 11),
        busy(p, 'w9', 12),
        gcPass(p, 12, 1),
        gcPass(p, 17, 0),
      ])
    )._unsafeUnwrap();
  });

  afterAll(async () => {
    await t?.drop();
  });

  const lives = async (workerId: string) =>
    (
      await sql<Record<string, unknown>>`
        SELECT * FROM ${sql.id(t.schema, 'worker_lives')}
        WHERE provider_id = ${p} AND worker_id = ${workerId} ORDER BY life`.execute(t.bus.db)
    ).rows;

  it('worker_lives gives one row per life, with its times, outcome and durations', async () => {
    expect(await lives('w-job')).toEqual([
      expect.objectContaining({
        provider_id: p,
        worker_id: 'w-job',
        life: '1',
        mode: 'job',
        image: 'busybox:1.36',
        resource_id: 'r-w-job-0',
        state: 'cleaned_up',
        created_at: new Date(at(0)),
        ready_at: new Date(at(1)),
        terminating_at: null,
        terminated_at: new Date(at(10)),
        failed_at: null,
        lost_at: null,
        cleaned_up_at: new Date(at(12)),
        finished_at: new Date(at(10)),
        ended_at: new Date(at(12)),
        exit_code: '0',
        forced: false,
        termination_reason: 'JobCompleted',
        cleanup_reason: 'TtlExpired',
        cleanup_duration_ms: '15',
        startup_seconds: 60,
        run_seconds: 540,
        lifetime_seconds: 600,
        retention_seconds: 120,
        total_seconds: 720,
        event_count: '5',
      }),
    ]);
    const agent = await lives('w-agent');
    expect(agent).toEqual([
      expect.objectContaining({
        life: '1',
        mode: 'agent',
        state: 'cleaned_up',
        exit_code: '143',
        termination_reason: 'ManualTermination',
        cleanup_reason: 'NormalTermination',
        retention_seconds: 0,
      }),
      expect.objectContaining({
        life: '2',
        state: 'creating',
        created_at: new Date(at(20)),
        finished_at: null,
        ended_at: null,
        total_seconds: null,
      }),
    ]);
    expect(Number(agent[1]?.['life_id'])).toBeGreaterThan(Number(agent[0]?.['life_id']));
  });

  it('worker_lives keeps a lost worker alive: its life ends only at its cleanup', async () => {
    expect(await lives('w-lost')).toEqual([
      expect.objectContaining({
        life: '1',
        state: 'terminated',
        lost_at: new Date(at(3)),
        cleaned_up_at: null,
        ended_at: null,
        total_seconds: null,
        termination_reason: 'ProviderError',
        event_count: '4',
      }),
    ]);
  });

  it('worker_lives starts a new life after a cleanup, even without a stored Created', async () => {
    const w9 = await lives('w9');
    const events = await sql<{ global_position: string; type: string }>`
      SELECT global_position::text AS global_position, type FROM ${sql.id(t.schema, 'events')}
      WHERE subject = 'w9' ORDER BY stream_position`.execute(t.bus.db);
    expect(w9).toEqual([
      expect.objectContaining({
        life_id: events.rows[0]?.global_position,
        life: '1',
        state: 'cleaned_up',
        ended_at: new Date(at(10)),
        event_count: '2',
      }),
      expect.objectContaining({
        life_id: events.rows[2]?.global_position,
        life: '2',
        state: 'busy',
        created_at: null,
        ready_at: new Date(at(11)),
        ended_at: null,
        event_count: '2',
      }),
    ]);
  });

  it("worker_lives reads only the worker's events through the index, given provider and worker", async () => {
    const used = await indexesUsed(
      t,
      `SELECT * FROM "${t.schema}".worker_lives WHERE provider_id = '${p}' AND worker_id = 'w-job'`,
    );
    expect(used).toEqual(['events_provider_id_subject_idx']);
  });

  it('gc_passes tells the passes that did something from the heartbeats', async () => {
    const rows = await sql<{ workers_cleaned: string; did_work: boolean }>`
      SELECT workers_cleaned, did_work FROM ${sql.id(t.schema, 'gc_passes')}
      WHERE provider_id = ${p} ORDER BY time`.execute(t.bus.db);
    expect(rows.rows).toEqual([
      { workers_cleaned: '1', did_work: true },
      { workers_cleaned: '0', did_work: false },
    ]);
  });

  it('comments every table, view and the columns an analyst reads', async () => {
    const res = await sql<{ object: string; comment: string | null }>`
      SELECT c.relname || coalesce('.' || a.attname, '') AS object,
        col_description(c.oid, a.attnum) AS comment
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = ${t.schema}
        AND c.relname IN ('events', 'worker_lives')`.execute(t.bus.db);
    const missing = res.rows.filter((r) => r.comment === null).map((r) => r.object);
    expect(missing).toEqual([]);
    const tables = await sql<{ relname: string; comment: string | null }>`
      SELECT c.relname, obj_description(c.oid, 'pg_class') AS comment
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${t.schema} AND c.relkind IN ('r', 'v')
        AND c.relname NOT LIKE 'migrations%' ORDER BY c.relname`.execute(t.bus.db);
    expect(tables.rows.map((r) => r.relname)).toEqual([
      'dead_letters',
      'events',
      'gc_passes',
      'life_events',
      'orphan_reports',
      'subscriptions',
      'webhooks',
      'worker_lives',
    ]);
    expect(tables.rows.filter((r) => r.comment === null)).toEqual([]);
  });
});

describe('retention: pruning the lives that ended', () => {
  let t: TestEventBus;
  const p = 'p-prune';
  const before = new Date(at(60));
  const stored = async (): Promise<Map<string, string[]>> => {
    const res = await sql<{ stream_id: string; type: string }>`
      SELECT stream_id, type FROM ${sql.id(t.schema, 'events')} WHERE provider_id = ${p}
      ORDER BY global_position`.execute(t.bus.db);
    const byStream = new Map<string, string[]>();
    for (const r of res.rows)
      byStream.set(r.stream_id, [...(byStream.get(r.stream_id) ?? []), r.type]);
    return byStream;
  };

  beforeAll(async () => {
    t = await createTestEventBus('evprune');
    (
      await t.bus.store.appendBatch([
        created(p, 'w-done', 0),
        ready(p, 'w-done', 1),
        terminated(p, 'w-done', 5, 0),
        cleanedUp(p, 'w-done', 7),
        // A reused id: the first life ended, the second is running.
        created(p, 'w-reused', 0),
        terminated(p, 'w-reused', 2, 1),
        cleanedUp(p, 'w-reused', 3),
        created(p, 'w-reused', 4),
        ready(p, 'w-reused', 5),
        // Lost: still tracked (terminated) until cleaned up, so it has not ended.
        created(p, 'w-lost', 0),
        lost(p, 'w-lost', 2),
        terminated(p, 'w-lost', 2, null),
        // Cleaned up, then alive again: its new Created failed to publish (only logged).
        created(p, 'w9', 0),
        cleanedUp(p, 'w9', 10),
        ready(p, 'w9', 11),
        busy(p, 'w9', 12),
        // Alive since long before the date, and one that ended after it.
        created(p, 'w-alive', 0),
        ready(p, 'w-alive', 1),
        created(p, 'w-late', 30),
        terminated(p, 'w-late', 61, 0),
        cleanedUp(p, 'w-late', 63),
        gcPass(p, 10, 1),
        gcPass(p, 70, 1),
      ])
    )._unsafeUnwrap();
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('refuses a DELETE outside prune_events: the log stays insert-only', async () => {
    await expect(
      sql`DELETE FROM ${sql.id(t.schema, 'events')} WHERE provider_id = ${p}`.execute(t.bus.db),
    ).rejects.toThrow(/insert-only/);
  });

  it('cannot be switched off by a setting of the session, the transaction or the role', async () => {
    const events = sql.id(t.schema, 'events');
    await t.bus.db.connection().execute(async (conn) => {
      await sql`SET hodei.prune = 'on'`.execute(conn);
      await sql`SET hodei.backfill = 'on'`.execute(conn);
      try {
        await expect(
          sql`DELETE FROM ${events} WHERE provider_id = ${p}`.execute(conn),
        ).rejects.toThrow(/insert-only/);
        await expect(
          sql`UPDATE ${events} SET actor = 'x' WHERE provider_id = ${p}`.execute(conn),
        ).rejects.toThrow(/insert-only/);
        // A transaction id of another transaction does not open it either.
        const other = await sql<{ xid: string }>`SELECT pg_current_xact_id()::text AS xid`.execute(
          conn,
        );
        await sql`SELECT set_config('hodei.prune', ${other.rows[0]?.xid ?? ''}, false)`.execute(
          conn,
        );
        await expect(
          sql`DELETE FROM ${events} WHERE provider_id = ${p}`.execute(conn),
        ).rejects.toThrow(/insert-only/);
      } finally {
        await sql`RESET hodei.prune`.execute(conn);
        await sql`RESET hodei.backfill`.execute(conn);
      }
    });
  });

  it('takes its batches from the cleanups through their partial index on time', async () => {
    const used = await indexesUsed(
      t,
      `SELECT provider_id, stream_id FROM "${t.schema}".events
       WHERE type = 'WorkerEphemeralCleanedUp' AND time < now() ORDER BY time LIMIT 10`,
    );
    expect(used).toEqual(['events_cleaned_up_time_idx']);
  });

  it('deletes the events of the lives that ended before the date, never those of a live worker', async () => {
    const lifeIds = async () =>
      (
        await sql<{ life_id: string; life: string }>`
          SELECT life_id::text AS life_id, life::text AS life FROM ${sql.id(t.schema, 'worker_lives')}
          WHERE provider_id = ${p} AND worker_id = 'w-reused' ORDER BY life`.execute(t.bus.db)
      ).rows;
    const second = (await lifeIds())[1];
    const report = (
      await t.bus.store.pruneEventsBefore(before, { batchWorkers: 1 })
    )._unsafeUnwrap();
    expect(report).toEqual({ workers: 3, events: 4 + 3 + 2 + 1 });
    expect(Object.fromEntries(await stored())).toEqual({
      'worker:w-reused': ['WorkerEphemeralCreated', 'WorkerEphemeralReady'],
      'worker:w-lost': ['WorkerEphemeralCreated', 'WorkerLost', 'WorkerEphemeralTerminated'],
      'worker:w9': ['WorkerEphemeralReady', 'WorkerEphemeralBusy'],
      'worker:w-alive': ['WorkerEphemeralCreated', 'WorkerEphemeralReady'],
      'worker:w-late': [
        'WorkerEphemeralCreated',
        'WorkerEphemeralTerminated',
        'WorkerEphemeralCleanedUp',
      ],
      [`provider:${p}`]: ['GarbageCollectionCompleted'],
    });
    // The live life keeps its identity; only its ordinal moved up.
    expect(await lifeIds()).toEqual([{ life_id: second?.life_id, life: '1' }]);
    // Nothing left to prune before that date.
    expect((await t.bus.store.pruneEventsBefore(before))._unsafeUnwrap()).toEqual({
      workers: 0,
      events: 0,
    });
  });

  it('prunes from outside the server with pruneEventsBefore(url, date)', async () => {
    const later = new Date(at(24 * 60));
    const report = await pruneEventsBefore(t.url, later, { schema: t.schema });
    expect(report._unsafeUnwrap()).toEqual({ workers: 1, events: 4 });
    expect([...(await stored()).keys()]).toEqual([
      'worker:w-reused',
      'worker:w-lost',
      'worker:w9',
      'worker:w-alive',
    ]);
  });

  it('refuses an invalid date', async () => {
    const result = await t.bus.store.pruneEventsBefore(new Date('not a date'));
    expect(result._unsafeUnwrapErr()).toMatchObject({ type: 'InvalidPruneDate' });
  });
});
