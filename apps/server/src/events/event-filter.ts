import type { LifecycleEvent, LifecycleEventType } from '@hodei/domain';

/** The `workerId` and `type` filters of `GET /v1/events`; an absent field matches everything. */
export interface EventFilter {
  readonly workerId?: string;
  readonly type?: LifecycleEventType;
}

/** The worker an event is about: its CloudEvents subject (GC and orphan reports have none). */
const subjectOf = (event: LifecycleEvent): string | undefined =>
  event.type === 'OrphanWorkerDetected' || event.type === 'GarbageCollectionCompleted'
    ? undefined
    : event.workerId;

/**
 * Whether a live event passes the filter. `workerId` means the worker's own events, as the
 * event store filters them (its `worker:<id>` stream), so live and catch-up agree.
 */
export function matchesFilter(filter: EventFilter, event: LifecycleEvent): boolean {
  return (
    (filter.workerId === undefined || subjectOf(event) === filter.workerId) &&
    (filter.type === undefined || event.type === filter.type)
  );
}
