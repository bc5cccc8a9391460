import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, sql } from 'kysely';
import { BACKFILL_SET, createIndex, EVENT_LOG_INDEXES } from './migration-0005-event-log.js';

/** Rows one backfill UPDATE (one short transaction) fills. */
const BACKFILL_BATCH = 5_000;
/** How often a process waits its turn while another one finishes the log. */
const TURN_POLL_MS = 200;

/**
 * The part of migration 0005 that a large log cannot do under the migrator's transaction,
 * run by migrateSchema after it on its own connection, outside any transaction: fill
 * `actor` and `correlation_id` of the rows stored before (UPDATE batches of global_position ranges,
 * each its own short transaction, which the insert-only guard lets through; appends only
 * insert, so they never wait for them), then build the indexes CONCURRENTLY (appends and
 * reads go on). Idempotent: an index an interrupted build left invalid is dropped and built
 * again. Processes starting at once take turns on a session advisory lock, tried (never
 * waited for inside a transaction, which a concurrent build would wait for in turn).
 */
export async function finishEventLog(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as the Migrator, untyped
  db: Kysely<any>,
  schema: string,
): Promise<void> {
  await db.connection().execute(async (conn) => {
    const key = `hodei-finish:${schema}`;
    for (;;) {
      const got = await sql<{ got: boolean }>`
        SELECT pg_try_advisory_lock(hashtextextended(${key}, 0)) AS got`.execute(conn);
      if (got.rows[0]?.got === true) break;
      await sleep(TURN_POLL_MS);
    }
    try {
      await backfill(conn, schema);
      await buildIndexes(conn, schema);
    } finally {
      await sql`SELECT pg_advisory_unlock(hashtextextended(${key}, 0))`
        .execute(conn)
        .catch(() => undefined);
    }
  });
}

/** A batch that deadlocked with a prune's DELETE (rows locked in another order) runs again. */
async function retryOnDeadlock<T>(batch: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await batch();
    } catch (cause) {
      const code = (cause as { code?: unknown } | null)?.code;
      if (code !== '40P01' || attempt >= 5) throw cause;
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as the Migrator, untyped
async function backfill(conn: Kysely<any>, schema: string): Promise<void> {
  const state = sql.id(schema, 'event_columns_backfill');
  const exists = await sql<{ present: boolean }>`
    SELECT to_regclass(${`"${schema}".event_columns_backfill`}) IS NOT NULL AS present`.execute(
    conn,
  );
  if (exists.rows[0]?.present !== true) return;
  const t = `"${schema}".events`;
  for (;;) {
    const done = await retryOnDeadlock(() =>
      conn.transaction().execute(async (trx) => {
        const s = await sql<{ next: string; upto: string }>`
        SELECT next_position::text AS next, upto::text AS upto FROM ${state} FOR UPDATE`.execute(
          trx,
        );
        const row = s.rows[0];
        if (row === undefined || BigInt(row.next) > BigInt(row.upto)) return true;
        const last = BigInt(row.next) + BigInt(BACKFILL_BATCH - 1);
        const to = last < BigInt(row.upto) ? last : BigInt(row.upto);
        await sql`SELECT set_config('hodei.backfill', pg_current_xact_id()::text, true)`.execute(
          trx,
        );
        // A range of the primary key: an index scan whatever the statistics.
        await sql
          .raw(BACKFILL_SET(t, `WHERE e.global_position BETWEEN ${row.next} AND ${to.toString()}`))
          .execute(trx);
        await sql`UPDATE ${state} SET next_position = ${(to + 1n).toString()}::bigint`.execute(trx);
        return false;
      }),
    );
    if (done) break;
  }
  await sql`DROP TABLE IF EXISTS ${state}`.execute(conn);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as the Migrator, untyped
async function buildIndexes(conn: Kysely<any>, schema: string): Promise<void> {
  const valid = await sql<{ name: string; valid: boolean }>`
    SELECT c.relname AS name, i.indisvalid AS valid
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema}`.execute(conn);
  const state = new Map(valid.rows.map((r) => [r.name, r.valid]));
  for (const index of EVENT_LOG_INDEXES) {
    if (state.get(index.name) === true) continue;
    if (state.get(index.name) === false) {
      await sql.raw(`DROP INDEX CONCURRENTLY IF EXISTS "${schema}".${index.name}`).execute(conn);
    }
    await sql.raw(createIndex(schema, index, true)).execute(conn);
  }
}
