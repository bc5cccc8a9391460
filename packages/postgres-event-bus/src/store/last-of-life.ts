import {
  type EventStoreError,
  type LifecycleEvent,
  workerIdOfRef,
  type WorkerLifeRef,
} from '@hodei/domain';
import { type QueryExecutorProvider, sql } from 'kysely';
import { okAsync, type ResultAsync } from 'neverthrow';
import { qualified } from '../schema/migrations.js';
import { eventColumns, type EventRowOutput } from './event-row.js';
import { selectEvents } from './select-events.js';

/**
 * Each worker's last event of one of `types` for the provider, of the life asked for: an
 * event that names the life's resource, or one that names none (older logs) recorded at or
 * after the life's creation. A bare id takes its events of any life. Keyed by worker id.
 */
export function lastOfLife<E extends LifecycleEvent>(
  executor: QueryExecutorProvider,
  schema: string,
  providerId: string,
  workers: readonly WorkerLifeRef[],
  types: readonly E['type'][],
  operation: string,
): ResultAsync<ReadonlyMap<string, E>, EventStoreError> {
  if (workers.length === 0) return okAsync(new Map());
  const streams = workers.map((ref) => `worker:${workerIdOfRef(ref)}`);
  const resources = workers.map((ref) => (typeof ref === 'string' ? null : ref.resourceId));
  const since = workers.map((ref) =>
    typeof ref === 'string' ? null : new Date(ref.createdAt).toISOString(),
  );
  const wanted = new Set<string>(types);
  const query = sql<EventRowOutput>`
    SELECT DISTINCT ON (e.stream_id) ${sql.raw(eventColumns('e'))}
    FROM ${qualified(schema, 'events')} e
    JOIN unnest(${streams}::text[], ${resources}::text[], ${since}::timestamptz[])
      AS l(stream_id, resource_id, since) ON e.stream_id = l.stream_id
    WHERE e.provider_id = ${providerId}
      AND e.type = ANY(${types}::text[])
      AND (l.resource_id IS NULL
        OR e.data->>'resourceId' = l.resource_id
        OR (e.data->>'resourceId' IS NULL AND e.time >= l.since))
    ORDER BY e.stream_id, e.stream_position DESC`;
  return selectEvents(query, operation, executor)
    .map((stored) => {
      const byWorker = new Map<string, E>();
      for (const { event } of stored) {
        const workerId = 'workerId' in event ? event.workerId : undefined;
        if (workerId !== undefined && wanted.has(event.type)) byWorker.set(workerId, event as E);
      }
      return byWorker;
    })
    .mapErr((e) => ({ type: 'EventStoreUnavailable' as const, message: e.message, cause: e }));
}
