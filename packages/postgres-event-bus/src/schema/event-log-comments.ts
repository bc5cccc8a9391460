/** Comments of migration 0005. */
/** What each table, view and column holds, for `\d+` and every SQL client's tooltips. */
const COMMENTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'TABLE events': {
    '': 'The lifecycle event log: one row per event, insert-only (prune_events deletes the lives that ended). Each row is the CloudEvents envelope flattened.',
    global_position: 'Order of insertion; with transaction_id, the delivery order.',
    transaction_id:
      'The inserting transaction; readers deliver only rows older than every running transaction.',
    event_id: 'The CloudEvents id (a UUIDv7); appending it again is a no-op.',
    type: 'The short event type, e.g. WorkerEphemeralCreated (CloudEvents type minus io.hodei.lifecycle.).',
    source: 'The CloudEvents source, /hodei/providers/<provider id>.',
    subject: 'The worker id; NULL for GC pass and orphan reports.',
    provider_id: 'The provider (Docker engine, cluster) the event happened on.',
    stream_id: 'worker:<id> for a worker, provider:<id> for GC and orphan reports.',
    stream_position: 'Position within the stream, from 1, no gaps at append.',
    time: 'When it happened (the event occurredAt).',
    recorded_at: 'When it was stored.',
    data: 'The event fields (CloudEvents data), as JSON.',
    metadata: 'correlationid, actor and the original time string.',
    actor:
      'Who caused it: api, gc, watch, recovery or cli (metadata.actor, set on insert; NULL on rows stored before migration 0005 until their backfill).',
    correlation_id:
      'The X-Correlation-Id of the request that caused it (from metadata); NULL for passes.',
  },
  'TABLE subscriptions': {
    '': 'One row per named subscription: its checkpoint and its consumer lease.',
    name: 'The subscription name.',
    checkpoint_transaction_id: 'Delivered up to this (transaction_id, global_position).',
    checkpoint_position: 'Delivered up to this (transaction_id, global_position).',
    lease_owner: 'The consumer holding the subscription, if any.',
    lease_expires_at: 'When the lease lapses unless renewed.',
    updated_at: 'Last checkpoint or lease change.',
  },
  'TABLE dead_letters': {
    '': 'Events a subscription gave up on after its retries.',
    subscription_name: 'The subscription that gave up.',
    event_id: 'The event it could not handle.',
    error: 'The last error.',
    attempts: 'Attempts made.',
    replay_requested_at: 'Set to ask for a redelivery.',
    resolved_at: 'Set once handled.',
  },
  'VIEW life_events': {
    '': 'Worker events by life: a life starts at a WorkerEphemeralCreated or at the first event after a WorkerEphemeralCleanedUp, and ends at a WorkerEphemeralCleanedUp.',
    life_id: 'The global_position of the first event of the life: its stable identity.',
    life: 'Ordinal of the life among those of this worker id still stored, from 1; changes when earlier lives are pruned.',
  },
  'VIEW worker_lives': {
    '': 'One row per worker life, with its times, outcome and durations. Filter on provider_id and worker_id to use the index.',
    provider_id: 'The provider it ran on.',
    worker_id: 'The worker id.',
    life_id: 'The global_position of the first event of the life: its stable identity.',
    life: 'Ordinal of the life among those of this worker id still stored, from 1; not stable across prunes (use life_id).',
    mode: 'job or agent.',
    image: 'The container image.',
    resource_id: 'The container (or pod) it ran in.',
    max_lifetime_secs: 'Its maxLifetime policy, in seconds.',
    ttl_after_completion_secs: 'How long it is kept once finished; NULL: until deleted.',
    created_at: 'WorkerEphemeralCreated.',
    ready_at: 'The first WorkerEphemeralReady.',
    terminating_at: 'WorkerEphemeralTerminating, when it was asked to stop.',
    terminated_at: 'WorkerEphemeralTerminated.',
    failed_at: 'WorkerEphemeralFailed.',
    lost_at:
      'WorkerLost: its resource vanished; the worker stays tracked (terminated) until cleaned up.',
    cleaned_up_at: 'WorkerEphemeralCleanedUp: its resource removed, no longer tracked.',
    state: 'The state its last event left it in; cleaned_up once cleaned up.',
    finished_at: 'When it stopped running: terminated or failed.',
    ended_at:
      'When it was gone: its WorkerEphemeralCleanedUp; NULL while it is tracked (lost included).',
    exit_code: 'The exit code of its main process; NULL when killed, lost or unknown.',
    forced: 'Whether the end was forced (force-removed after the graceful timeout).',
    error: 'Why it failed, for failed workers.',
    termination_reason:
      'Why it ended; derived from its exit for events written before reasons were recorded.',
    cleanup_reason: 'Why its resource was removed.',
    cleanup_duration_ms: 'How long removing its resource took.',
    startup_seconds: 'Created to ready.',
    run_seconds: 'Ready to finished.',
    lifetime_seconds: 'Created to finished.',
    retention_seconds: 'Finished to cleaned up (the TTL after completion).',
    total_seconds: 'Created to cleaned up.',
    recoveries: 'Server restarts it was recovered across.',
    event_count: 'Events of this life.',
    first_event_at: 'Its first event.',
    last_event_at: 'Its last event.',
  },
  'VIEW gc_passes': {
    '': 'Deadline passes that did something, and heartbeats of idle ones (did_work false).',
    did_work: 'False for a heartbeat: an idle pass, recorded every few minutes.',
    duration_ms: 'How long the pass took.',
  },
  'VIEW orphan_reports': {
    '': 'Resources labelled as ours that no tracked worker owns.',
    claimed_worker_id: 'The worker id its labels name, if any.',
    action: 'reported, or removed (orphanAction remove).',
  },
};

export function commentStatements(schema: string): string[] {
  const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
  const out: string[] = [];
  for (const [object, comments] of Object.entries(COMMENTS)) {
    const [kind, name] = object.split(' ') as [string, string];
    for (const [column, text] of Object.entries(comments)) {
      out.push(
        column === ''
          ? `COMMENT ON ${kind} "${schema}".${name} IS ${quote(text)}`
          : `COMMENT ON COLUMN "${schema}".${name}.${column} IS ${quote(text)}`,
      );
    }
  }
  out.push(
    `COMMENT ON FUNCTION "${schema}".prune_events(timestamptz, integer, integer) IS ${quote(
      'One batch of retention: of at most p_max_streams workers, the events up to their last WorkerEphemeralCleanedUp before p_before; and at most p_max_reports GC and orphan reports older than it.',
    )}`,
  );
  return out;
}
