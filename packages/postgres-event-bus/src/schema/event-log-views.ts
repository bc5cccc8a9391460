/**
 * The analyst views of migration 0005. A worker life starts at a WorkerEphemeralCreated, or
 * at whatever event follows a WorkerEphemeralCleanedUp (a Created whose publish failed is
 * only logged), and ends only at a WorkerEphemeralCleanedUp: a lost worker stays tracked
 * (terminated) until its TTL or a DELETE cleans it up. `life_id`, the global_position of a
 * life's first event, identifies it; `life` numbers the lives still stored, from 1, and
 * changes when earlier ones are pruned. Rows stored before the migration may still await
 * their backfill: the views read `actor` and `correlation_id` through the metadata then.
 */
/** The state a state-changing event leaves a worker in (WorkerRecovered: the one it names). */
const STATE_OF_TYPE = `CASE l.type
      WHEN 'WorkerEphemeralCreated' THEN 'creating'
      WHEN 'WorkerEphemeralReady' THEN 'ready'
      WHEN 'WorkerEphemeralBusy' THEN 'busy'
      WHEN 'WorkerEphemeralTerminating' THEN 'terminating'
      WHEN 'WorkerEphemeralTerminated' THEN 'terminated'
      WHEN 'WorkerEphemeralFailed' THEN 'failed'
      WHEN 'WorkerRecovered' THEN l.data->>'recoveredState'
    END`;

const first = (column: string, type: string): string =>
  `(array_agg(l.${column} ORDER BY l.stream_position) FILTER (WHERE l.type = '${type}'))[1]`;
const firstTime = (type: string): string => `min(l.time) FILTER (WHERE l.type = '${type}')`;
const seconds = (to: string, from: string): string =>
  `extract(epoch FROM ${to} - ${from})::double precision`;

/** Worker events with their life: `life_id` and the `life` ordinal. */
const lifeEventsView = (s: string): string => `
CREATE VIEW ${s}.life_events AS
WITH marked AS (
  SELECT e.*, (lag(e.type) OVER w IS NULL OR e.type = 'WorkerEphemeralCreated'
      OR lag(e.type) OVER w = 'WorkerEphemeralCleanedUp') AS starts
  FROM ${s}.events e
  WHERE e.subject IS NOT NULL
  WINDOW w AS (PARTITION BY e.provider_id, e.subject ORDER BY e.stream_position)
), numbered AS (
  SELECT m.*, count(*) FILTER (WHERE m.starts)
      OVER (PARTITION BY m.provider_id, m.subject ORDER BY m.stream_position) AS life
  FROM marked m
)
SELECT n.global_position, n.event_id, n.type, n.provider_id, n.subject AS worker_id,
  n.stream_position, n.time, n.recorded_at,
  coalesce(n.actor, n.metadata->>'actor') AS actor,
  coalesce(n.correlation_id, n.metadata->>'correlationid') AS correlation_id, n.data,
  min(n.global_position) OVER (PARTITION BY n.provider_id, n.subject, n.life) AS life_id,
  n.life
FROM numbered n`;

export function viewStatements(schema: string): string[] {
  const s = `"${schema}"`;
  return [
    lifeEventsView(s),
    `
CREATE VIEW ${s}.worker_lives AS
WITH lives AS (
  SELECT l.provider_id, l.worker_id, l.life_id, l.life,
    ${firstTime('WorkerEphemeralCreated')} AS created_at,
    ${firstTime('WorkerEphemeralReady')} AS ready_at,
    ${firstTime('WorkerEphemeralTerminating')} AS terminating_at,
    ${firstTime('WorkerEphemeralTerminated')} AS terminated_at,
    ${firstTime('WorkerEphemeralFailed')} AS failed_at,
    ${firstTime('WorkerLost')} AS lost_at,
    ${firstTime('WorkerEphemeralCleanedUp')} AS cleaned_up_at,
    ${first('data', 'WorkerEphemeralCreated')} AS created,
    ${first('data', 'WorkerEphemeralTerminating')} AS terminating,
    ${first('data', 'WorkerEphemeralTerminated')} AS terminated,
    ${first('data', 'WorkerEphemeralFailed')} AS failed,
    ${first('data', 'WorkerEphemeralCleanedUp')} AS cleaned,
    (array_agg(${STATE_OF_TYPE} ORDER BY l.stream_position DESC)
      FILTER (WHERE ${STATE_OF_TYPE} IS NOT NULL))[1] AS last_state,
    count(*) FILTER (WHERE l.type = 'WorkerRecovered') AS recoveries,
    count(*) AS event_count,
    min(l.time) AS first_event_at,
    max(l.time) AS last_event_at
  FROM ${s}.life_events l
  GROUP BY l.provider_id, l.worker_id, l.life_id, l.life
)
SELECT provider_id, worker_id, life_id, life,
  created->>'mode' AS mode,
  created->>'image' AS image,
  created->>'resourceId' AS resource_id,
  (created->>'maxLifetimeSecs')::bigint AS max_lifetime_secs,
  (created->>'ttlAfterCompletionSecs')::bigint AS ttl_after_completion_secs,
  CASE WHEN cleaned_up_at IS NOT NULL THEN 'cleaned_up' ELSE last_state END AS state,
  created_at, ready_at, terminating_at, terminated_at, failed_at, lost_at, cleaned_up_at,
  least(terminated_at, failed_at) AS finished_at,
  cleaned_up_at AS ended_at,
  (terminated->>'exitCode')::bigint AS exit_code,
  (terminated->>'forced')::boolean AS forced,
  failed->>'error' AS error,
  coalesce(terminating->>'reason', terminated->>'reason', failed->>'reason',
    CASE
      WHEN failed IS NOT NULL AND failed->>'error' LIKE 'not running after startupTimeout%'
        THEN 'StartupTimeout'
      WHEN failed IS NOT NULL THEN 'ProviderError'
      WHEN terminated IS NULL THEN NULL
      WHEN lost_at IS NOT NULL THEN 'ProviderError'
      WHEN created->>'mode' = 'job' OR terminated->>'exitCode' = '0' THEN 'JobCompleted'
      ELSE 'ProviderError'
    END) AS termination_reason,
  cleaned->>'cleanupReason' AS cleanup_reason,
  (cleaned->>'cleanupDurationMs')::bigint AS cleanup_duration_ms,
  ${seconds('ready_at', 'created_at')} AS startup_seconds,
  ${seconds('least(terminated_at, failed_at)', 'ready_at')} AS run_seconds,
  ${seconds('least(terminated_at, failed_at)', 'created_at')} AS lifetime_seconds,
  ${seconds('cleaned_up_at', 'least(terminated_at, failed_at)')} AS retention_seconds,
  ${seconds('cleaned_up_at', 'created_at')} AS total_seconds,
  recoveries, event_count, first_event_at, last_event_at
FROM lives`,
    `
CREATE VIEW ${s}.gc_passes AS
SELECT e.global_position, e.event_id, e.provider_id, e.time,
  coalesce(e.actor, e.metadata->>'actor') AS actor,
  (e.data->>'workersCleaned')::bigint AS workers_cleaned,
  (e.data->>'orphansDetected')::bigint AS orphans_detected,
  (e.data->>'errors')::bigint AS errors,
  (e.data->>'durationMs')::double precision AS duration_ms,
  (e.data->>'lifetimeExceeded')::bigint AS lifetime_exceeded,
  (e.data->>'idleTimedOut')::bigint AS idle_timed_out,
  (e.data->>'startupTimedOut')::bigint AS startup_timed_out,
  (e.data->>'forceTerminated')::bigint AS force_terminated,
  (e.data->>'ttlExpired')::bigint AS ttl_expired,
  (coalesce((e.data->>'workersCleaned')::bigint, 0) + coalesce((e.data->>'orphansDetected')::bigint, 0)
    + coalesce((e.data->>'errors')::bigint, 0) + coalesce((e.data->>'lifetimeExceeded')::bigint, 0)
    + coalesce((e.data->>'idleTimedOut')::bigint, 0) + coalesce((e.data->>'startupTimedOut')::bigint, 0)
    + coalesce((e.data->>'forceTerminated')::bigint, 0) + coalesce((e.data->>'ttlExpired')::bigint, 0)
  ) > 0 AS did_work
FROM ${s}.events e
WHERE e.type = 'GarbageCollectionCompleted'`,
    `
CREATE VIEW ${s}.orphan_reports AS
SELECT e.global_position, e.event_id, e.provider_id, e.time,
  coalesce(e.actor, e.metadata->>'actor') AS actor,
  e.data->>'resourceId' AS resource_id,
  e.data->>'workerId' AS claimed_worker_id,
  (e.data->>'lastSeen')::timestamptz AS last_seen,
  (e.data->>'orphanedDurationSecs')::bigint AS orphaned_duration_secs,
  e.data->>'action' AS action
FROM ${s}.events e
WHERE e.type = 'OrphanWorkerDetected'`,
  ];
}
