import { eventSubject, type LifecycleEvent } from '@hodei/domain';
import type { EventFilter } from '@hodei/postgres-event-bus';

export type { EventFilter } from '@hodei/postgres-event-bus';

/**
 * Whether a live event passes the filter. `workerId` means the worker's own events, as the
 * event store filters them (its `worker:<id>` stream), so live and catch-up agree.
 */
export function matchesFilter(filter: EventFilter, event: LifecycleEvent): boolean {
  return matchesSubject(filter, eventSubject(event), event.type);
}

/** The same, from an event's subject already worked out (once per event, not per client). */
export function matchesSubject(
  filter: EventFilter,
  subject: string | undefined,
  type: string,
): boolean {
  return (
    (filter.workerId === undefined || subject === filter.workerId) &&
    (filter.type === undefined || type === filter.type)
  );
}
