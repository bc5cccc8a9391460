import { eventSubject, type LifecycleEvent } from '@hodei/domain';
import type { EventFilter } from '@hodei/postgres-event-bus';

export type { EventFilter } from '@hodei/postgres-event-bus';

/**
 * Whether a live event passes the filter. `workerId` means the worker's own events, as the
 * event store filters them (its `worker:<id>` stream), so live and catch-up agree.
 */
export function matchesFilter(filter: EventFilter, event: LifecycleEvent): boolean {
  return (
    (filter.workerId === undefined || eventSubject(event) === filter.workerId) &&
    (filter.type === undefined || event.type === filter.type)
  );
}
