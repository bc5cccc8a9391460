import { CLOUD_EVENT_TYPE_PREFIX, type LifecycleEventType } from '@hodei/domain';
import { type Kysely, sql } from 'kysely';
import { okAsync, ResultAsync } from 'neverthrow';
import type { EventBusDatabase } from '../schema/database.js';
import { qualified } from '../schema/migrations.js';
import type { LogPosition } from './cursor.js';
import { UUID } from './event-row.js';
import { classifyDatabaseError, type QueryError } from './event-store.errors.js';

/** Which events a filtered read returns; an absent field matches every event. */
export interface EventFilter {
  /** The worker's own events (its `worker:<id>` stream; not orphan reports naming it). */
  readonly workerId?: string;
  readonly type?: LifecycleEventType;
  /** Only events of one of these types (with `type`, of both). */
  readonly types?: readonly LifecycleEventType[];
  /** No events of these types. */
  readonly excludeTypes?: readonly LifecycleEventType[];
}

/** Where an event sits in the log; `undefined` when it is not stored (or is no event id at all). */
export function positionOfEvent(
  db: Kysely<EventBusDatabase>,
  schema: string,
  eventId: string,
): ResultAsync<LogPosition | undefined, QueryError> {
  // Checked here so that a malformed id is "unknown", not a failed `::uuid` cast.
  if (!UUID.test(eventId)) return okAsync(undefined);
  return ResultAsync.fromPromise(
    sql<{ transaction_id: string; global_position: string }>`
      SELECT transaction_id::text AS transaction_id, global_position::text AS global_position
      FROM ${qualified(schema, 'events')} WHERE event_id = ${eventId}::uuid`.execute(db),
    (cause) => classifyDatabaseError(cause, 'positionOf'),
  ).map((res) => {
    const row = res.rows[0];
    return row === undefined
      ? undefined
      : { transactionId: row.transaction_id, globalPosition: row.global_position };
  });
}

/** A stored event as its CloudEvents JSON, with its place in the log. */
export interface CloudEventJson {
  readonly eventId: string;
  readonly type: LifecycleEventType;
  readonly transactionId: string;
  readonly globalPosition: string;
  /**
   * The envelope `toCloudEvent` gives for the event, as JSON text rendered by PostgreSQL:
   * the same members and values, though `data`'s keys may come in another order.
   */
  readonly json: string;
}

/**
 * The WHERE clause of the reads after a position: after `position`, deliverable, matching
 * `filter`. The filter is in the query, so a worker's events come from the
 * `(stream_id, stream_position)` index and a rare type's from `(type, global_position)`, not
 * from a scan of everything since.
 */
export function afterMatching(position: LogPosition, filter: EventFilter) {
  const stream =
    filter.workerId === undefined ? sql`` : sql`AND e.stream_id = ${`worker:${filter.workerId}`}`;
  const type = filter.type === undefined ? sql`` : sql`AND e.type = ${filter.type}`;
  const types =
    filter.types === undefined ? sql`` : sql`AND e.type = ANY(${[...filter.types]}::text[])`;
  const excluded =
    filter.excludeTypes === undefined || filter.excludeTypes.length === 0
      ? sql``
      : sql`AND e.type <> ALL(${[...filter.excludeTypes]}::text[])`;
  return sql`
    (e.transaction_id, e.global_position) > (${position.transactionId}::xid8, ${position.globalPosition}::bigint)
    AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    ${stream} ${type} ${types} ${excluded}`;
}

/** The envelope as `fromEventRow` then `toCloudEvent` build it, in SQL, as JSON text. */
const CLOUD_EVENT_JSON = sql`
  '{"specversion":"1.0","id":' || to_json(e.event_id::text)::text
  || ',"type":' || to_json(${sql.lit(CLOUD_EVENT_TYPE_PREFIX)} || e.type)::text
  || ',"source":' || to_json(e.source)::text
  || CASE WHEN e.subject IS NULL THEN '' ELSE ',"subject":' || to_json(e.subject)::text END
  || ',"time":' || CASE WHEN jsonb_typeof(e.metadata->'time') = 'string'
       THEN (e.metadata->'time')::text
       ELSE to_json(to_char(e.time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text END
  || ',"datacontenttype":"application/json","data":' || e.data::text
  || CASE WHEN jsonb_typeof(e.metadata->'correlationid') = 'string'
       THEN ',"correlationid":' || (e.metadata->'correlationid')::text ELSE '' END
  || CASE WHEN jsonb_typeof(e.metadata->'actor') = 'string'
       THEN ',"actor":' || (e.metadata->'actor')::text ELSE '' END
  || '}'`;

/**
 * `readAfter` with a filter and each event as its CloudEvents JSON text, for relaying (SSE): no
 * JSON is parsed or built in the process, which is most of the cost of a large catch-up.
 */
export function readCloudEventJsonAfter(
  db: Kysely<EventBusDatabase>,
  schema: string,
  position: LogPosition,
  filter: EventFilter,
  limit: number,
): ResultAsync<CloudEventJson[], QueryError> {
  return ResultAsync.fromPromise(
    sql<{ event_id: string; type: LifecycleEventType; t: string; g: string; json: string }>`
      SELECT e.event_id::text AS event_id, e.type, e.transaction_id::text AS t,
        e.global_position::text AS g, ${CLOUD_EVENT_JSON} AS json
      FROM ${qualified(schema, 'events')} e
      WHERE ${afterMatching(position, filter)}
      ORDER BY e.transaction_id, e.global_position
      LIMIT ${limit}`.execute(db),
    (cause) => classifyDatabaseError(cause, 'readCloudEventJsonAfter'),
  ).map((res) =>
    res.rows.map((r) => ({
      eventId: r.event_id,
      type: r.type,
      transactionId: r.t,
      globalPosition: r.g,
      json: r.json,
    })),
  );
}
