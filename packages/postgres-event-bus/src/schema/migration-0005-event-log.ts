import { type Kysely, type Migration, sql } from 'kysely';
import { commentStatements } from './event-log-comments.js';
import { viewStatements } from './event-log-views.js';

/**
 * Migration 0005, the event log for people: `actor` and `correlation_id` as indexed columns,
 * views an analyst can query (`worker_lives`, `life_events`, `gc_passes`, `orphan_reports`),
 * comments on every table, view and column, and `prune_events` for retention. Frozen once
 * released, like every migration: later changes go in a new one.
 *
 * It must not hold the table long: it runs in the migrator's transaction, and its ALTER TABLE
 * takes an ACCESS EXCLUSIVE lock (appends and reads wait) until that commits. So the columns
 * are plain nullable ones (no rewrite), a trigger fills them on insert, and on a log of more
 * than SMALL_LOG rows the backfill of the older rows and the indexes are left to
 * `finishEventLog` (finish-event-log.ts), which migrateSchema runs after the migrator:
 * batches of UPDATEs and CREATE INDEX CONCURRENTLY, appends never waiting for long.
 */
export function eventLogMigration(schema: string): Migration {
  return {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are untyped by design
    up: async (db: Kysely<any>) => {
      const run = (statement: string) => sql.raw(statement).execute(db);
      for (const statement of [
        ...columnStatements(schema),
        guardFunction(schema),
        pruneFunction(schema),
        ...viewStatements(schema),
        ...commentStatements(schema),
      ]) {
        await run(statement);
      }
      const t = `"${schema}".events`;
      const small = await sql
        .raw<{ small: boolean }>(
          `SELECT count(*) <= ${SMALL_LOG} AS small FROM (SELECT 1 FROM ${t} LIMIT ${SMALL_LOG + 1}) x`,
        )
        .execute(db);
      if (small.rows[0]?.small === true) {
        await run(`SELECT set_config('hodei.backfill', pg_current_xact_id()::text, true)`);
        await run(BACKFILL_SET(t, 'WHERE true'));
        for (const index of EVENT_LOG_INDEXES) await run(createIndex(schema, index, false));
      } else {
        for (const statement of backfillStateStatements(schema)) await run(statement);
      }
    },
  };
}

/** Up to this many rows, the migration backfills and indexes in its own transaction. */
const SMALL_LOG = 10_000;

/** The UPDATE that fills the columns of rows stored before migration 0005. */
export const BACKFILL_SET = (table: string, where: string): string =>
  `UPDATE ${table} e SET actor = e.metadata->>'actor', correlation_id = e.metadata->>'correlationid' ${where}`;

export interface EventLogIndex {
  readonly name: string;
  readonly definition: string;
}

/**
 * `(actor, time)` and `(correlation_id)` for analysts (the latter partial: passes and
 * watches carry no correlation id); `(time)` of the cleanups for `prune_events`, which takes
 * its batches in cleanup order.
 */
export const EVENT_LOG_INDEXES: readonly EventLogIndex[] = [
  { name: 'events_actor_time_idx', definition: '(actor, time)' },
  {
    name: 'events_correlation_id_idx',
    definition: '(correlation_id) WHERE correlation_id IS NOT NULL',
  },
  {
    name: 'events_cleaned_up_time_idx',
    definition: "(time) WHERE type = 'WorkerEphemeralCleanedUp'",
  },
];

export const createIndex = (schema: string, index: EventLogIndex, concurrently: boolean): string =>
  `CREATE INDEX ${concurrently ? 'CONCURRENTLY ' : ''}IF NOT EXISTS ${index.name}
    ON "${schema}".events ${index.definition}`;

/**
 * Plain nullable columns: ADD COLUMN without a default changes the catalog only. The BEFORE
 * INSERT trigger sets both from `metadata` on every append path (whatever an INSERT says),
 * so they never disagree with the JSON.
 */
function columnStatements(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    `ALTER TABLE ${s}.events ADD COLUMN actor text, ADD COLUMN correlation_id text`,
    `CREATE FUNCTION ${s}.events_columns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.actor := NEW.metadata->>'actor';
  NEW.correlation_id := NEW.metadata->>'correlationid';
  RETURN NEW;
END $$`,
    `CREATE TRIGGER events_columns BEFORE INSERT ON ${s}.events
      FOR EACH ROW EXECUTE FUNCTION ${s}.events_columns()`,
  ];
}

/**
 * What is left to backfill on a large log: the rows up to the last one stored before the
 * trigger (the ALTER TABLE holds the table, so no insert without it can come later).
 * `finishEventLog` advances `next_position` batch by batch and drops the table when done.
 */
function backfillStateStatements(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    `CREATE TABLE ${s}.event_columns_backfill (next_position bigint NOT NULL, upto bigint NOT NULL)`,
    `INSERT INTO ${s}.event_columns_backfill
      SELECT coalesce(min(global_position), 0), coalesce(max(global_position), 0) FROM ${s}.events`,
    `COMMENT ON TABLE ${s}.event_columns_backfill IS 'Migration 0005: the rows whose actor and correlation_id are still to fill; dropped once done.'`,
  ];
}

/**
 * The insert-only trigger lets a DELETE through only inside `prune_events`, and an UPDATE
 * only inside the backfill: each sets its setting to its own transaction id (SET LOCAL), so
 * no setting of a session or a role can switch the guard off. A guard against accidents,
 * not a permission.
 */
function guardFunction(schema: string): string {
  return `
CREATE OR REPLACE FUNCTION "${schema}".events_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE'
    AND current_setting('hodei.prune', true) = pg_current_xact_id()::text THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE'
    AND current_setting('hodei.backfill', true) = pg_current_xact_id()::text THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '${schema}.events is insert-only';
END $$`;
}

/**
 * `prune_events(before, max_streams, max_reports)`: one batch of retention. A worker life
 * ends only at its WorkerEphemeralCleanedUp (a lost worker stays tracked until then), so it
 * takes the oldest cleanups before `before` (through their partial index, `max_streams`
 * at most) and deletes, of each of their streams, the events up to the last cleanup before
 * `before` — never one after it: a live worker's events, whether or not its Created was
 * stored, stay. Then at most `max_reports` GC and orphan reports older than `before`.
 * Returns the workers (streams) and the events deleted; (0, 0) once nothing is left, or
 * while another prune runs.
 */
function pruneFunction(schema: string): string {
  const t = `"${schema}".events`;
  return `
CREATE FUNCTION "${schema}".prune_events(p_before timestamptz, p_max_streams integer,
  p_max_reports integer)
RETURNS TABLE (workers bigint, events bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_streams bigint := 0;
  v_life_events bigint := 0;
  v_reports bigint := 0;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended('hodei-prune:${schema}', 0)) THEN
    RETURN QUERY SELECT 0::bigint, 0::bigint;
    RETURN;
  END IF;
  PERFORM set_config('hodei.prune', pg_current_xact_id()::text, true);
  WITH picked AS (
    SELECT DISTINCT c.provider_id, c.stream_id FROM (
      SELECT e.provider_id, e.stream_id FROM ${t} e
      WHERE e.type = 'WorkerEphemeralCleanedUp' AND e.time < p_before
      ORDER BY e.time
      LIMIT p_max_streams) c
  ), ends AS (
    SELECT p.provider_id, p.stream_id,
      (SELECT max(e.stream_position) FROM ${t} e
        WHERE e.stream_id = p.stream_id AND e.provider_id = p.provider_id
          AND e.type = 'WorkerEphemeralCleanedUp' AND e.time < p_before) AS end_pos
    FROM picked p
  ), gone AS (
    DELETE FROM ${t} e USING ends d
    WHERE e.stream_id = d.stream_id AND e.provider_id = d.provider_id
      AND e.stream_position <= d.end_pos
    RETURNING e.provider_id, e.stream_id
  )
  SELECT count(DISTINCT (g.provider_id, g.stream_id)), count(*)
  INTO v_streams, v_life_events FROM gone g;
  WITH gone AS (
    DELETE FROM ${t} e WHERE e.global_position IN (
      SELECT r.global_position FROM ${t} r
      WHERE r.subject IS NULL AND r.time < p_before
      LIMIT p_max_reports)
    RETURNING 1
  )
  SELECT count(*) INTO v_reports FROM gone;
  PERFORM set_config('hodei.prune', '', true);
  RETURN QUERY SELECT v_streams, v_life_events + v_reports;
END
$fn$`;
}
