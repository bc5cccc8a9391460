import { err, ok, type Result } from 'neverthrow';
import {
  isLifecycleEventType,
  type LifecycleEvent,
  type LifecycleEventType,
} from './lifecycle-event.js';
import { ACTORS, type Actor } from './reasons.js';

export const CLOUD_EVENT_TYPE_PREFIX = 'io.hodei.lifecycle.';

/** The CloudEvents 1.0 JSON envelope of a lifecycle event (SPEC §3.6). */
export interface LifecycleCloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly type: `io.hodei.lifecycle.${LifecycleEventType}`;
  readonly source: string;
  readonly subject?: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data: Readonly<Record<string, unknown>>;
  readonly correlationid?: string;
  readonly actor?: Actor;
}

const META_KEYS = new Set([
  'eventId',
  'type',
  'occurredAt',
  'workerId',
  'providerId',
  'correlationId',
  'actor',
]);

/** The event's own fields, without the envelope's. */
export function eventData(event: LifecycleEvent): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (!META_KEYS.has(key)) data[key] = value;
  }
  // An orphan's claimed worker id is data, not the subject: nothing tracks it.
  if (event.type === 'OrphanWorkerDetected' && event.workerId !== undefined) {
    data['workerId'] = event.workerId;
  }
  return data;
}

/** The worker an event is about, its CloudEvents subject: GC and orphan reports have none. */
export const eventSubject = (event: LifecycleEvent): string | undefined =>
  event.type === 'OrphanWorkerDetected' || event.type === 'GarbageCollectionCompleted'
    ? undefined
    : event.workerId;

export function toCloudEvent(event: LifecycleEvent): LifecycleCloudEvent {
  const subject = eventSubject(event);
  return {
    specversion: '1.0',
    id: event.eventId,
    type: `${CLOUD_EVENT_TYPE_PREFIX}${event.type}`,
    source: `/hodei/providers/${event.providerId}`,
    ...(subject === undefined ? {} : { subject }),
    time: event.occurredAt,
    datacontenttype: 'application/json',
    data: eventData(event),
    ...(event.correlationId === undefined ? {} : { correlationid: event.correlationId }),
    ...(event.actor === undefined ? {} : { actor: event.actor }),
  };
}

export interface InvalidCloudEvent {
  readonly type: 'InvalidCloudEvent';
  readonly message: string;
}

/** Reads an envelope back into a lifecycle event (for stores and replays). */
export function fromCloudEvent(envelope: unknown): Result<LifecycleEvent, InvalidCloudEvent> {
  const fail = (message: string) =>
    err<never, InvalidCloudEvent>({ type: 'InvalidCloudEvent', message });
  if (typeof envelope !== 'object' || envelope === null) return fail('not an object');
  const e = envelope as Record<string, unknown>;
  if (e['specversion'] !== '1.0') return fail('specversion must be "1.0"');
  const type = typeof e['type'] === 'string' ? e['type'] : '';
  const short = type.startsWith(CLOUD_EVENT_TYPE_PREFIX)
    ? type.slice(CLOUD_EVENT_TYPE_PREFIX.length)
    : '';
  if (!isLifecycleEventType(short)) return fail(`unknown type ${JSON.stringify(e['type'])}`);
  const source = typeof e['source'] === 'string' ? e['source'] : '';
  if (!source.startsWith('/hodei/providers/')) return fail('source must be /hodei/providers/<id>');
  if (typeof e['id'] !== 'string' || typeof e['time'] !== 'string')
    return fail('id and time are required');
  const data = e['data'];
  if (typeof data !== 'object' || data === null) return fail('data must be an object');
  const actor = e['actor'];
  if (actor !== undefined && !(ACTORS as readonly unknown[]).includes(actor))
    return fail('unknown actor');
  const event: Record<string, unknown> = {
    ...(data as Record<string, unknown>),
    eventId: e['id'],
    type: short,
    occurredAt: e['time'],
    providerId: source.slice('/hodei/providers/'.length),
  };
  if (typeof e['subject'] === 'string') event['workerId'] = e['subject'];
  if (typeof e['correlationid'] === 'string') event['correlationId'] = e['correlationid'];
  if (actor !== undefined) event['actor'] = actor;
  return ok(event as unknown as LifecycleEvent);
}
