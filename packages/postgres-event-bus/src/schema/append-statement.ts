import { type RawBuilder, sql } from 'kysely';

/** One row per input event, in input order; bigint and xid8 values as text. */
export interface AppendRow {
  ord: string;
  event_id: string;
  global_position: string | null;
  transaction_id: string | null;
  stream_id: string;
  stream_position: string | null;
  duplicate: boolean;
  version_ok: boolean;
  actual_version: string | null;
}

/**
 * The append itself, run by `append_events` once it holds the streams' locks: skip events
 * already stored (idempotency on event_id), check the expected version, number the rest after
 * each stream's last position and insert them. The ids already stored are looked up as one
 * array (`= ANY`), an index condition on the unique index whatever the statistics: an `IN`
 * subquery let a generic plan read the whole index and hash-join it (migration 0004).
 */
export function appendStatement(
  schema: string,
  events: RawBuilder<unknown>,
  expectedVersion: RawBuilder<unknown>,
): RawBuilder<AppendRow> {
  const t = sql.id(schema, 'events');
  return sql<AppendRow>`
WITH input AS (
  SELECT x.event_id, x.type, x.source, x.subject, x.provider_id, x.stream_id, x.time, x.data,
    x.metadata, x.ord
  FROM jsonb_to_recordset(${events}) AS x(event_id uuid, type text, source text, subject text,
    provider_id text, stream_id text, time timestamptz, data jsonb, metadata jsonb, ord bigint)
), existing AS (
  SELECT e.event_id, e.global_position, e.transaction_id, e.stream_id, e.stream_position
  FROM ${t} e WHERE e.event_id = ANY (ARRAY(SELECT i.event_id FROM input i))
), fresh AS (
  SELECT DISTINCT ON (i.event_id) i.*
  FROM input i
  WHERE NOT EXISTS (SELECT 1 FROM existing x WHERE x.event_id = i.event_id)
  ORDER BY i.event_id, i.ord
), heads AS (
  SELECT s.stream_id,
    (SELECT coalesce(max(e.stream_position), 0) FROM ${t} e WHERE e.stream_id = s.stream_id) AS version
  FROM (SELECT DISTINCT f.stream_id FROM fresh f) s
), check_version AS (
  SELECT (${expectedVersion} IS NULL OR NOT EXISTS (SELECT 1 FROM fresh)
      OR (SELECT h.version FROM heads h LIMIT 1) = ${expectedVersion}) AS ok,
    (SELECT h.version FROM heads h LIMIT 1) AS version
), ins AS (
  INSERT INTO ${t}
    (event_id, type, source, subject, provider_id, stream_id, stream_position, time, data, metadata)
  SELECT f.event_id, f.type, f.source, f.subject, f.provider_id, f.stream_id,
    h.version + row_number() OVER (PARTITION BY f.stream_id ORDER BY f.ord),
    f.time, f.data, coalesce(f.metadata, '{}'::jsonb)
  FROM fresh f JOIN heads h ON h.stream_id = f.stream_id
  WHERE (SELECT c.ok FROM check_version c)
  ORDER BY f.ord
  RETURNING event_id, global_position, transaction_id, stream_id, stream_position
)
SELECT i.ord::text AS ord, i.event_id::text AS event_id,
  coalesce(a.global_position, x.global_position)::text AS global_position,
  coalesce(a.transaction_id, x.transaction_id)::text AS transaction_id,
  coalesce(a.stream_id, x.stream_id, i.stream_id) AS stream_id,
  coalesce(a.stream_position, x.stream_position)::text AS stream_position,
  f.ord IS NULL AS duplicate, c.ok AS version_ok, c.version::text AS actual_version
FROM input i
CROSS JOIN check_version c
LEFT JOIN fresh f ON f.ord = i.ord
LEFT JOIN ins a ON a.event_id = i.event_id
LEFT JOIN existing x ON x.event_id = i.event_id
ORDER BY i.ord`;
}
