import {
  CLOUD_EVENT_TYPE_PREFIX,
  eventSubject,
  isLifecycleEventType,
  LIFECYCLE_EVENT_TYPES,
  type LifecycleEvent,
  type LifecycleEventType,
} from '@hodei/domain';
import type { EventFilter } from '@hodei/postgres-event-bus';
import { err, ok, type Result } from 'neverthrow';

export type { EventFilter } from '@hodei/postgres-event-bus';

/** The deadline pass's reports: sent only when asked for (`heartbeats=true`, or by type). */
export const GC_PASS_TYPES: readonly LifecycleEventType[] = ['GarbageCollectionCompleted'];

/** The query of `GET /v1/events`, as its schema lets it through. */
export interface EventStreamQuery {
  readonly workerId?: string;
  /** Event types, comma-separated, short (`WorkerEphemeralReady`) or CloudEvents (`io.hodei.lifecycle.…`). */
  readonly type?: string;
  readonly heartbeats?: string;
  readonly ticket?: string;
}

/** A `type` that names no event type: answered 400, in the validation error's envelope. */
export interface InvalidEventFilter {
  readonly error: 'ValidationFailed';
  readonly message: string;
  readonly problems: readonly { readonly path: string; readonly message: string }[];
}

/** `io.hodei.lifecycle.WorkerLost` or `WorkerLost`, as the short type; undefined if neither. */
function shortType(name: string): LifecycleEventType | undefined {
  const short = name.startsWith(CLOUD_EVENT_TYPE_PREFIX)
    ? name.slice(CLOUD_EVENT_TYPE_PREFIX.length)
    : name;
  return isLifecycleEventType(short) ? short : undefined;
}

/**
 * The filter of a `GET /v1/events` query: `workerId`; `type`, a comma-separated list in
 * either spelling (any of them matches); GC pass reports only with `heartbeats=true` or when
 * `type` names them. An unknown type is an error that names it.
 */
export function eventFilterOf(query: unknown): Result<EventFilter, InvalidEventFilter> {
  const q = (typeof query === 'object' && query !== null ? query : {}) as EventStreamQuery;
  const heartbeats = q.heartbeats === 'true';
  const names = (q.type ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const unknown = names.filter((n) => shortType(n) === undefined);
  if (unknown.length > 0) {
    const message = `unknown event type ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${LIFECYCLE_EVENT_TYPES.join(', ')} (also as ${CLOUD_EVENT_TYPE_PREFIX}<type>)`;
    return err({
      error: 'ValidationFailed',
      message: `query.type ${message}`,
      problems: [{ path: 'query.type', message }],
    });
  }
  const worker = q.workerId === undefined ? {} : { workerId: q.workerId };
  if (names.length === 0) {
    return ok(heartbeats ? worker : { ...worker, excludeTypes: GC_PASS_TYPES });
  }
  const types = new Set(names.map((n) => shortType(n) as LifecycleEventType));
  if (heartbeats) for (const t of GC_PASS_TYPES) types.add(t);
  return ok({ ...worker, types: [...types] });
}

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
  type: LifecycleEventType,
): boolean {
  return (
    (filter.workerId === undefined || subject === filter.workerId) &&
    (filter.type === undefined || type === filter.type) &&
    (filter.types === undefined || filter.types.includes(type)) &&
    (filter.excludeTypes === undefined || !filter.excludeTypes.includes(type))
  );
}
