import { appendStatement } from './append-statement.js';
import { finishEventLog } from './finish-event-log.js';
import { eventLogMigration } from './migration-0005-event-log.js';
import { webhooksMigration } from './migration-0006-webhooks.js';
import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
  sql,
} from 'kysely';

/** The quoted schema-qualified name of one of the bus's objects. */
export const qualified = (schema: string, name: string) => sql.id(schema, name);

/** The NOTIFY channel of a schema: one per schema, so test schemas never wake each other. */
export const notifyChannel = (schema: string): string => `${schema}_events`.slice(0, 63);

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,50}$/;

export const isValidSchemaName = (schema: string): boolean => SCHEMA_NAME.test(schema);

/**
 * `append_events(events, expected_version, notify)` does the whole append in one round trip:
 * it takes a transaction advisory lock per stream (in stream order, so appends never deadlock
 * each other) and only then runs the append statement, whose snapshot therefore sees every
 * earlier append to those streams. The xid is assigned at the insert, after the locks, so per
 * stream the (transaction_id, global_position) order is the stream order — unless the caller's
 * transaction wrote something else earlier (see the README). Plans are cached per session.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are untyped by design
function appendFunction(db: Kysely<any>, schema: string): string {
  const statement = appendStatement(
    schema,
    sql.raw('p_events'),
    sql.raw('p_expected_version'),
  ).compile(db).sql;
  return `
CREATE OR REPLACE FUNCTION "${schema}".append_events(p_events jsonb, p_expected_version bigint, p_notify boolean)
RETURNS TABLE (
  ord text, event_id text, global_position text, transaction_id text, stream_id text,
  stream_position text, duplicate boolean, version_ok boolean, actual_version text
)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  v_stream text;
BEGIN
  FOR v_stream IN
    SELECT DISTINCT e->>'stream_id' FROM jsonb_array_elements(p_events) e ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended('${schema}:' || v_stream, 0));
  END LOOP;
  RETURN QUERY ${statement};
  IF p_notify THEN
    PERFORM pg_notify('${notifyChannel(schema)}', '');
  END IF;
END
$fn$`;
}

/**
 * `append_events_group(events)`: `append_events` for a group commit, which must never wait
 * for a stream a caller's open transaction holds. It only tries each stream's lock; when any
 * is busy it writes nothing and returns one row per busy stream (`ord` '0', `stream_id`), so
 * the callers on it can go their own way and the rest of the group commit at once.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are untyped by design
function appendGroupFunction(db: Kysely<any>, schema: string): string {
  const statement = appendStatement(schema, sql.raw('p_events'), sql.raw('NULL::bigint')).compile(
    db,
  ).sql;
  return `
CREATE OR REPLACE FUNCTION "${schema}".append_events_group(p_events jsonb)
RETURNS TABLE (
  ord text, event_id text, global_position text, transaction_id text, stream_id text,
  stream_position text, duplicate boolean, version_ok boolean, actual_version text
)
LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
#variable_conflict use_column
DECLARE
  v_stream text;
  v_busy text[] := '{}';
BEGIN
  FOR v_stream IN
    SELECT DISTINCT e->>'stream_id' FROM jsonb_array_elements(p_events) e ORDER BY 1
  LOOP
    IF NOT pg_try_advisory_xact_lock(hashtextextended('${schema}:' || v_stream, 0)) THEN
      v_busy := v_busy || v_stream;
    END IF;
  END LOOP;
  IF cardinality(v_busy) > 0 THEN
    RETURN QUERY SELECT '0'::text, NULL::text, NULL::text, NULL::text, b.s, NULL::text, false,
      false, NULL::text
    FROM unnest(v_busy) AS b(s);
    RETURN;
  END IF;
  RETURN QUERY ${statement};
END
$fn$`;
}

/**
 * `append_event`: the same for a single event with scalar arguments, which spares the JSON
 * unpacking and the set-based statement on the most common path.
 */
function appendOneFunction(schema: string): string {
  const s = `"${schema}"`;
  return `
CREATE OR REPLACE FUNCTION ${s}.append_event(p_event_id uuid, p_type text, p_source text,
  p_subject text, p_provider_id text, p_stream_id text, p_time timestamptz, p_data jsonb,
  p_metadata jsonb, p_expected_version bigint, p_notify boolean)
RETURNS TABLE (
  ord text, event_id text, global_position text, transaction_id text, stream_id text,
  stream_position text, duplicate boolean, version_ok boolean, actual_version text
)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  v_version bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('${schema}:' || p_stream_id, 0));
  SELECT coalesce(max(e.stream_position), 0) INTO v_version
  FROM ${s}.events e WHERE e.stream_id = p_stream_id;
  IF p_expected_version IS NULL OR v_version = p_expected_version THEN
    RETURN QUERY INSERT INTO ${s}.events AS e
      (event_id, type, source, subject, provider_id, stream_id, stream_position, time, data, metadata)
    VALUES (p_event_id, p_type, p_source, p_subject, p_provider_id, p_stream_id, v_version + 1,
      p_time, p_data, p_metadata)
    ON CONFLICT (event_id) DO NOTHING
    RETURNING '1', e.event_id::text, e.global_position::text, e.transaction_id::text, e.stream_id,
      e.stream_position::text, false, true, v_version::text;
    IF FOUND THEN
      IF p_notify THEN
        PERFORM pg_notify('${notifyChannel(schema)}', '');
      END IF;
      RETURN;
    END IF;
  END IF;
  -- Already stored (a re-append returns the original), or the expected version is wrong.
  RETURN QUERY SELECT '1', e.event_id::text, e.global_position::text, e.transaction_id::text,
    e.stream_id, e.stream_position::text, true, true, NULL::text
  FROM ${s}.events e WHERE e.event_id = p_event_id;
  IF NOT FOUND THEN
    RETURN QUERY SELECT '1', p_event_id::text, NULL::text, NULL::text, p_stream_id, NULL::text,
      false, false, v_version::text;
  END IF;
END
$fn$`;
}

/**
 * The append functions plan their statements once per session, and the generic plan of a
 * table that was small then (a fresh log, statistics not yet gathered) scans it sequentially
 * for ever after; every lookup they make has an index, so they forbid sequential scans.
 */
const APPEND_FUNCTION_SIGNATURES = [
  'append_events(jsonb, bigint, boolean)',
  'append_event(uuid, text, text, text, text, text, timestamptz, jsonb, jsonb, bigint, boolean)',
];

/** Migrations 0001 to 0004, as released. */
function firstMigrations(schema: string): Record<string, Migration> {
  const t = (name: string) => qualified(schema, name);
  return {
    '0001_events': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are untyped by design
      up: async (db: Kysely<any>) => {
        await sql`
          CREATE TABLE ${t('events')} (
            global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
            event_id uuid NOT NULL UNIQUE,
            type text NOT NULL,
            source text NOT NULL,
            subject text,
            provider_id text NOT NULL,
            stream_id text NOT NULL,
            stream_position bigint NOT NULL,
            time timestamptz NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            data jsonb NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
            UNIQUE (stream_id, stream_position)
          )`.execute(db);
        await sql`CREATE INDEX ON ${t('events')} (transaction_id, global_position)`.execute(db);
        await sql`CREATE INDEX ON ${t('events')} (type, global_position)`.execute(db);
        await sql`CREATE INDEX ON ${t('events')} (time)`.execute(db);
        await sql`CREATE INDEX ON ${t('events')} (provider_id, subject)`.execute(db);
        // Insert-only: updates and deletes are refused by the database itself.
        await sql
          .raw(
            `
          CREATE FUNCTION "${schema}".events_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION '${schema}.events is insert-only'; END $$`,
          )
          .execute(db);
        await sql
          .raw(
            `
          CREATE TRIGGER events_insert_only BEFORE UPDATE OR DELETE ON "${schema}".events
          FOR EACH STATEMENT EXECUTE FUNCTION "${schema}".events_insert_only()`,
          )
          .execute(db);
        await sql.raw(appendFunction(db, schema)).execute(db);
        await sql.raw(appendOneFunction(schema)).execute(db);
      },
    },
    '0002_subscriptions': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are untyped by design
      up: async (db: Kysely<any>) => {
        await sql`
          CREATE TABLE ${t('subscriptions')} (
            name text PRIMARY KEY,
            checkpoint_transaction_id xid8 NOT NULL DEFAULT '0'::xid8,
            checkpoint_position bigint NOT NULL DEFAULT 0,
            lease_owner text,
            lease_expires_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now()
          ) WITH (fillfactor = 50)`.execute(db);
        await sql`
          CREATE TABLE ${t('dead_letters')} (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            subscription_name text NOT NULL,
            event_id uuid NOT NULL,
            global_position bigint NOT NULL,
            transaction_id xid8 NOT NULL,
            error text NOT NULL,
            attempts int NOT NULL,
            first_failed_at timestamptz NOT NULL,
            last_failed_at timestamptz NOT NULL,
            replay_requested_at timestamptz,
            resolved_at timestamptz,
            UNIQUE (subscription_name, event_id)
          )`.execute(db);
      },
    },
    '0003_append_index_plans': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are untyped by design
      up: async (db: Kysely<any>) => {
        for (const signature of APPEND_FUNCTION_SIGNATURES) {
          await sql
            .raw(`ALTER FUNCTION "${schema}".${signature} SET enable_seqscan = off`)
            .execute(db);
        }
      },
    },
    '0004_append_id_lookup_and_group': {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are untyped by design
      up: async (db: Kysely<any>) => {
        // `= ANY(array)` lookup (appendStatement); OR REPLACE resets 0003's setting.
        await sql.raw(appendFunction(db, schema)).execute(db);
        await sql
          .raw(
            `ALTER FUNCTION "${schema}".${APPEND_FUNCTION_SIGNATURES[0]} SET enable_seqscan = off`,
          )
          .execute(db);
        await sql.raw(appendGroupFunction(db, schema)).execute(db);
      },
    },
  };
}

/** Every migration, by name; kysely runs them in name order. Never edit a released one. */
const migrationsFor = (schema: string): Record<string, Migration> => ({
  ...firstMigrations(schema),
  '0005_event_log': eventLogMigration(schema),
  '0006_webhooks': webhooksMigration(schema),
});

class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(this.migrations);
  }
}

/**
 * Creates the schema and runs every pending migration (up to `target` only, for tests of a
 * migration's effect on older data). A session advisory lock makes two processes starting at
 * once take turns: the second finds nothing left to do. Then, outside the migrator's
 * transaction, what migration 0005 leaves to do on a large log (finishEventLog: backfill in
 * batches, indexes built concurrently); a no-op once done.
 */
export async function migrateSchema(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the Migrator is untyped
  db: Kysely<any>,
  schema: string,
  target?: string,
): Promise<MigrationResultSet> {
  const migrated = await db.connection().execute(async (conn) => {
    await sql`SELECT pg_advisory_lock(hashtextextended(${`hodei-migrate:${schema}`}, 0))`.execute(
      conn,
    );
    try {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(conn);
      const migrator = new Migrator({
        db: conn,
        provider: new StaticMigrationProvider(migrationsFor(schema)),
        migrationTableSchema: schema,
        migrationTableName: 'migrations',
        migrationLockTableName: 'migrations_lock',
      });
      return await (target === undefined ? migrator.migrateToLatest() : migrator.migrateTo(target));
    } finally {
      await sql`SELECT pg_advisory_unlock(hashtextextended(${`hodei-migrate:${schema}`}, 0))`
        .execute(conn)
        .catch(() => undefined);
    }
  });
  if (migrated.error === undefined && (target === undefined || target >= '0005_event_log')) {
    await finishEventLog(db, schema);
  }
  return migrated;
}
