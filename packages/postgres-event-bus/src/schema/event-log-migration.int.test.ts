import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../testing/index.js';
import { migrateSchema } from './migrations.js';

/**
 * Migration 0005 on a log too large to backfill and index inside the migrator's transaction
 * (more than 10 000 rows): no rewrite of the table, the backfill in batches and the indexes
 * built concurrently afterwards, idempotent, and safe for processes starting at once.
 */

const ROWS = 12_000;
const INDEXES = [
  'events_actor_time_idx',
  'events_cleaned_up_time_idx',
  'events_correlation_id_idx',
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test schema's tables vary
type Db = Kysely<any>;

/** Worker events as 0004 stored them, half with a correlation id, all at the same time. */
async function fillOldLog(db: Db, schema: string): Promise<void> {
  await sql`
    INSERT INTO ${sql.id(schema, 'events')}
      (event_id, type, source, subject, provider_id, stream_id, stream_position, time, data, metadata)
    SELECT gen_random_uuid(), 'WorkerEphemeralBusy', '/hodei/providers/p-big', 'w-' || (i % 100),
      'p-big', 'worker:w-' || (i % 100), i, '2025-05-01T00:00:00Z', '{}'::jsonb,
      CASE WHEN i % 2 = 0 THEN jsonb_build_object('actor', 'api', 'correlationid', 'c-' || i)
        ELSE jsonb_build_object('actor', 'gc') END
    FROM generate_series(1, ${ROWS}) AS i`.execute(db);
}

const fileOfEvents = async (db: Db, schema: string): Promise<string> =>
  (
    await sql<{ node: string }>`
      SELECT pg_relation_filenode(${`"${schema}".events`}::regclass)::text AS node`.execute(db)
  ).rows[0]?.node ?? '';

const indexes = async (db: Db, schema: string) =>
  (
    await sql<{ name: string; valid: boolean; is_unique: boolean }>`
      SELECT c.relname AS name, i.indisvalid AS valid, i.indisunique AS is_unique
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relname = ANY(${INDEXES}) ORDER BY c.relname`.execute(db)
  ).rows;

describe('migration 0005 on a large log', () => {
  let s: TestSchema;

  beforeEach(async () => {
    s = await createTestSchema('evlog_big');
    const first = await migrateSchema(s.db, s.name, '0004_append_id_lookup_and_group');
    expect(first.error).toBeUndefined();
    await fillOldLog(s.db, s.name);
  });

  afterEach(async () => {
    await s?.drop();
  });

  it('does not rewrite the table, backfills its rows and builds its indexes, with two processes starting at once', async () => {
    const before = await fileOfEvents(s.db, s.name);
    const [a, b] = await Promise.all([migrateSchema(s.db, s.name), migrateSchema(s.db, s.name)]);
    expect([a.error, b.error]).toEqual([undefined, undefined]);
    expect([...(a.results ?? []), ...(b.results ?? [])].map((r) => r.migrationName)).toEqual([
      '0005_event_log',
      '0006_webhooks',
    ]);
    expect(await fileOfEvents(s.db, s.name)).toBe(before);
    const wrong = await sql<{ count: string }>`
      SELECT count(*)::text AS count FROM ${sql.id(s.name, 'events')}
      WHERE actor IS DISTINCT FROM metadata->>'actor'
        OR correlation_id IS DISTINCT FROM metadata->>'correlationid'`.execute(s.db);
    expect(wrong.rows).toEqual([{ count: '0' }]);
    expect(await indexes(s.db, s.name)).toEqual(
      INDEXES.map((name) => ({ name, valid: true, is_unique: false })),
    );
    const left = await sql<{ present: boolean }>`
      SELECT to_regclass(${`"${s.name}".event_columns_backfill`}) IS NOT NULL AS present`.execute(
      s.db,
    );
    expect(left.rows).toEqual([{ present: false }]);
    // The backfill's way through the guard is closed again.
    await expect(
      sql`UPDATE ${sql.id(s.name, 'events')} SET actor = 'x'`.execute(s.db),
    ).rejects.toThrow(/insert-only/);
  });

  it('builds again an index that an interrupted concurrent build left invalid', async () => {
    expect((await migrateSchema(s.db, s.name)).error).toBeUndefined();
    await sql.raw(`DROP INDEX "${s.name}".events_actor_time_idx`).execute(s.db);
    // A unique build over duplicates fails half-way, leaving its index invalid.
    await expect(
      sql
        .raw(
          `CREATE UNIQUE INDEX CONCURRENTLY events_actor_time_idx ON "${s.name}".events (actor, time)`,
        )
        .execute(s.db),
    ).rejects.toThrow();
    expect((await indexes(s.db, s.name)).find((i) => i.name === 'events_actor_time_idx')).toEqual({
      name: 'events_actor_time_idx',
      valid: false,
      is_unique: true,
    });
    expect((await migrateSchema(s.db, s.name)).error).toBeUndefined();
    expect(await indexes(s.db, s.name)).toEqual(
      INDEXES.map((name) => ({ name, valid: true, is_unique: false })),
    );
  });
});
