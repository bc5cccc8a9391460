import { type Kysely, sql } from 'kysely';
import { err, errAsync, ok, type Result, ResultAsync } from 'neverthrow';
import type { EventBusDatabase } from '../schema/database.js';
import { qualified } from '../schema/migrations.js';
import {
  classifyDatabaseError,
  type EventStoreFailure,
  type EventStoreUnavailable,
} from './event-store.errors.js';

/** What a prune deleted: events, and the workers (streams) whose ended lives they were. */
export interface PruneReport {
  readonly workers: number;
  readonly events: number;
}

export interface InvalidPruneDate {
  readonly type: 'InvalidPruneDate';
  readonly message: string;
}

export type PruneError = EventStoreUnavailable | EventStoreFailure | InvalidPruneDate;

export interface PruneOptions {
  /** Workers whose ended lives one batch (one transaction) deletes at most (default 200). */
  readonly batchWorkers?: number;
  /** GC and orphan reports one batch deletes at most (default 2000). */
  readonly batchReports?: number;
}

/**
 * Retention: deletes, batch by batch (each its own short transaction), the events of the
 * worker lives that ended before `before` — of each worker, its events up to its last
 * WorkerEphemeralCleanedUp before that date, never one after — and the GC pass and orphan
 * reports older than it. A worker still tracked (lost ones included) keeps all its events,
 * and so does a later life of a reused worker id, whether or not its Created was stored.
 * Runs `prune_events` (migration 0005) until it finds nothing; while another prune of the
 * same schema runs, it does nothing.
 */
export function pruneEvents(
  db: Kysely<EventBusDatabase>,
  schema: string,
  before: Date,
  options: PruneOptions = {},
): ResultAsync<PruneReport, PruneError> {
  if (!(before instanceof Date) || Number.isNaN(before.getTime())) {
    return errAsync({ type: 'InvalidPruneDate', message: 'the date to prune before is invalid' });
  }
  const batchWorkers = Math.max(1, options.batchWorkers ?? 200);
  const batchReports = Math.max(1, options.batchReports ?? 2000);
  const batch = () =>
    sql<{ workers: string; events: string }>`
      SELECT workers::text AS workers, events::text AS events
      FROM ${qualified(schema, 'prune_events')}(
        ${before.toISOString()}::timestamptz, ${batchWorkers}::integer, ${batchReports}::integer)`.execute(
      db,
    );
  const run = async (): Promise<Result<PruneReport, PruneError>> => {
    let workers = 0;
    let events = 0;
    for (;;) {
      let deleted: PruneReport;
      try {
        const row = (await batch()).rows[0];
        deleted = { workers: Number(row?.workers ?? 0), events: Number(row?.events ?? 0) };
      } catch (cause) {
        return err(classifyDatabaseError(cause, 'pruneEvents'));
      }
      workers += deleted.workers;
      events += deleted.events;
      if (deleted.events === 0) return ok({ workers, events });
    }
  };
  return new ResultAsync(run());
}
