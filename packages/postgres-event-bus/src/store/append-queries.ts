import { type Kysely, type QueryExecutorProvider, sql } from 'kysely';
import { err, ok, type Result } from 'neverthrow';
import type { AppendRow } from '../schema/append-statement.js';
import type { EventBusDatabase } from '../schema/database.js';
import { qualified } from '../schema/migrations.js';
import type { EventRowJson } from './event-row.js';
import { type AppendError, classifyDatabaseError } from './event-store.errors.js';
import type { GroupReply } from './group-commit.js';

/** The part of a `pg.Pool` the fast append path uses. */
export interface AppendPool {
  query<R extends object>(config: {
    readonly name: string;
    readonly text: string;
    readonly values: unknown[];
  }): Promise<{ rows: R[] }>;
}

interface Statement {
  readonly name: string;
  readonly text: string;
}

/** `append_events`' input: the rows as one JSON array, each with its 1-based `ord`. */
export const eventsJson = (rows: readonly EventRowJson[]): string =>
  `[${rows.map((r, i) => `${r.json.slice(0, -1)},"ord":${i + 1}}`).join(',')}]`;

const oneValues = ({ row, dataJson, metadataJson }: EventRowJson, expected: number | null) => [
  row.event_id,
  row.type,
  row.source,
  row.subject,
  row.provider_id,
  row.stream_id,
  row.time,
  dataJson,
  metadataJson,
  expected,
];

/**
 * The append in a transaction of its own (autocommit: the reply comes after the commit). On
 * the pool, as named prepared statements parsed once per connection; else through kysely.
 */
export class OwnTransactionAppend {
  readonly #db: Kysely<EventBusDatabase>;
  readonly #pool: AppendPool | null;
  readonly #schema: string;
  readonly #one: Statement;
  readonly #many: Statement;
  readonly #group: Statement;

  constructor(db: Kysely<EventBusDatabase>, pool: AppendPool | null, schema: string) {
    this.#db = db;
    this.#pool = pool;
    this.#schema = schema;
    // The statement names carry the schema: pg keeps one text per name and connection.
    this.#one = {
      name: `hodei_append_event:${schema}`,
      text: `SELECT * FROM "${schema}".append_event($1::uuid, $2, $3, $4, $5, $6,
        $7::timestamptz, $8::jsonb, $9::jsonb, $10::bigint, false)`,
    };
    this.#many = {
      name: `hodei_append_events:${schema}`,
      text: `SELECT * FROM "${schema}".append_events($1::jsonb, $2::bigint, false)`,
    };
    this.#group = {
      name: `hodei_append_events_group:${schema}`,
      text: `SELECT * FROM "${schema}".append_events_group($1::jsonb)`,
    };
  }

  /** A group commit's append: it waits for no stream's lock (see `append_events_group`). */
  async runGroup(rows: readonly EventRowJson[]): Promise<Result<GroupReply, AppendError>> {
    const events = eventsJson(rows);
    try {
      const out =
        this.#pool === null
          ? (
              await sql<AppendRow>`
                SELECT * FROM ${qualified(this.#schema, 'append_events_group')}(${events}::jsonb)`.execute(
                this.#db,
              )
            ).rows
          : (await this.#pool.query<AppendRow>({ ...this.#group, values: [events] })).rows;
      return ok(out[0]?.ord === '0' ? { busyStreams: out.map((r) => r.stream_id) } : { rows: out });
    } catch (cause) {
      return err(classifyDatabaseError(cause, 'append'));
    }
  }

  async run(
    rows: readonly EventRowJson[],
    expected: number | undefined,
  ): Promise<Result<readonly AppendRow[], AppendError>> {
    const pool = this.#pool;
    if (pool === null) {
      return appendInTransaction(this.#db, this.#schema, rows, expected, false);
    }
    const only = rows.length === 1 ? rows[0] : undefined;
    try {
      const res =
        only === undefined
          ? await pool.query<AppendRow>({
              ...this.#many,
              values: [eventsJson(rows), expected ?? null],
            })
          : await pool.query<AppendRow>({
              ...this.#one,
              values: oneValues(only, expected ?? null),
            });
      return ok(res.rows);
    } catch (cause) {
      return err(classifyDatabaseError(cause, 'append'));
    }
  }
}

/** The append through kysely on `executor`: a caller's transaction, or the pool's autocommit. */
export async function appendInTransaction(
  executor: QueryExecutorProvider,
  schema: string,
  rows: readonly EventRowJson[],
  expected: number | undefined,
  notify: boolean,
): Promise<Result<readonly AppendRow[], AppendError>> {
  const only = rows.length === 1 ? rows[0] : undefined;
  const query =
    only === undefined
      ? sql<AppendRow>`
        SELECT * FROM ${qualified(schema, 'append_events')}(
          ${eventsJson(rows)}::jsonb, ${expected ?? null}::bigint, ${notify})`
      : sql<AppendRow>`
        SELECT * FROM ${qualified(schema, 'append_event')}(
          ${only.row.event_id}::uuid, ${only.row.type}, ${only.row.source}, ${only.row.subject},
          ${only.row.provider_id}, ${only.row.stream_id}, ${only.row.time}::timestamptz,
          ${only.dataJson}::jsonb, ${only.metadataJson}::jsonb, ${expected ?? null}::bigint,
          ${notify})`;
  try {
    return ok((await query.execute(executor)).rows);
  } catch (cause) {
    return err(classifyDatabaseError(cause, 'append'));
  }
}
