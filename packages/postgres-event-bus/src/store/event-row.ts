import {
  fromCloudEvent,
  type LifecycleEvent,
  eventSubject,
  toCloudEvent,
  type InvalidCloudEvent,
} from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import { encodeCursor } from './cursor.js';
import type { EventNotSerializable, EventRejected } from './event-store.errors.js';

/** What `append_events` receives for one event (the CloudEvents envelope, flattened). */
export interface EventRowInput {
  readonly event_id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string | null;
  readonly provider_id: string;
  readonly stream_id: string;
  readonly time: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

/** A stored event with its place in the log. */
export interface StoredEvent {
  readonly event: LifecycleEvent;
  readonly streamId: string;
  readonly streamPosition: number;
  readonly globalPosition: string;
  readonly transactionId: string;
  /** Opaque resume cursor: reading from it returns the events after this one. */
  readonly cursor: string;
  readonly recordedAt: string;
}

export const DEFAULT_MAX_EVENT_BYTES = 64 * 1024;

/** An event id as the `uuid` column takes it. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `worker:<id>` for a worker's events, `provider:<id>` for GC and orphan reports. */
export function streamIdOf(event: LifecycleEvent): string {
  const subject = eventSubject(event);
  return subject === undefined ? `provider:${event.providerId}` : `worker:${subject}`;
}

/** The first value JSON (and jsonb) would lose or refuse, with its path. */
function findUnserializable(value: unknown, path: string, seen: Set<object>): string | null {
  switch (typeof value) {
    case 'string':
      return value.includes('\u0000') ? `${path} contains a NUL character` : null;
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value) ? null : `${path} is ${String(value)}`;
    case 'object': {
      if (value === null) return null;
      if (seen.has(value)) return `${path} is a circular reference`;
      if (Array.isArray(value)) {
        seen.add(value);
        for (let i = 0; i < value.length; i += 1) {
          if (value[i] === undefined) return `${path}[${i}] is undefined`;
          const found = findUnserializable(value[i], `${path}[${i}]`, seen);
          if (found !== null) return found;
        }
        seen.delete(value);
        return null;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        return `${path} is a ${value.constructor.name}, not a plain object`;
      }
      seen.add(value);
      for (const [key, inner] of Object.entries(value)) {
        if (inner === undefined) continue;
        const found = findUnserializable(inner, `${path}.${key}`, seen);
        if (found !== null) return found;
      }
      seen.delete(value);
      return null;
    }
    default:
      return `${path} is a ${typeof value}`;
  }
}

/** A validated row with its JSON forms: the whole row, its `data` and its `metadata`. */
export interface EventRowJson {
  readonly row: EventRowInput;
  readonly json: string;
  readonly dataJson: string;
  readonly metadataJson: string;
}

/** Validates an event and flattens it into the row `append_events` stores. */
export function toEventRow(
  event: LifecycleEvent,
  maxEventBytes: number,
): Result<EventRowJson, EventRejected> {
  const eventId = typeof event.eventId === 'string' ? event.eventId : String(event.eventId);
  const problem = findUnserializable(event, 'event', new Set());
  if (problem !== null) {
    return err<never, EventNotSerializable>({
      type: 'EventNotSerializable',
      eventId,
      path: problem.split(' ')[0] ?? 'event',
      message: `event ${eventId} cannot be stored as JSON: ${problem}`,
    });
  }
  if (!UUID.test(eventId)) {
    return err({ type: 'InvalidEvent', eventId, message: `eventId ${eventId} is not a UUID` });
  }
  if (typeof event.occurredAt !== 'string' || Number.isNaN(Date.parse(event.occurredAt))) {
    return err({
      type: 'InvalidEvent',
      eventId,
      message: `occurredAt of ${eventId} is not an ISO 8601 time`,
    });
  }
  const cloud = toCloudEvent(event);
  const row: EventRowInput = {
    event_id: eventId,
    type: event.type,
    source: cloud.source,
    subject: cloud.subject ?? null,
    provider_id: event.providerId,
    stream_id:
      cloud.subject === undefined ? `provider:${event.providerId}` : `worker:${cloud.subject}`,
    time: event.occurredAt,
    data: cloud.data,
    metadata: {
      ...(cloud.correlationid === undefined ? {} : { correlationid: cloud.correlationid }),
      ...(cloud.actor === undefined ? {} : { actor: cloud.actor }),
      // Kept verbatim so the event reads back exactly as it was written.
      time: event.occurredAt,
    },
  };
  // Each part is serialised once; `json` is exactly `JSON.stringify(row)`.
  const dataJson = JSON.stringify(row.data);
  const metadataJson = JSON.stringify(row.metadata);
  const { data: _data, metadata: _metadata, ...head } = row;
  const json = `${JSON.stringify(head).slice(0, -1)},"data":${dataJson},"metadata":${metadataJson}}`;
  const sizeBytes = Buffer.byteLength(json);
  if (sizeBytes > maxEventBytes) {
    return err({
      type: 'EventTooLarge',
      eventId,
      sizeBytes,
      limitBytes: maxEventBytes,
      message: `event ${eventId} is ${sizeBytes} bytes; the limit is ${maxEventBytes}`,
    });
  }
  return ok({ row, json, dataJson, metadataJson });
}

/** A row as the read queries select it. */
export interface EventRowOutput {
  readonly global_position: string;
  readonly transaction_id: string;
  readonly event_id: string;
  readonly type: string;
  readonly source: string;
  readonly subject: string | null;
  readonly stream_id: string;
  readonly stream_position: string;
  readonly time: Date;
  readonly recorded_at: Date;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

export function fromEventRow(row: EventRowOutput): Result<StoredEvent, InvalidCloudEvent> {
  const time =
    typeof row.metadata['time'] === 'string' ? row.metadata['time'] : row.time.toISOString();
  return fromCloudEvent({
    specversion: '1.0',
    id: row.event_id,
    type: `io.hodei.lifecycle.${row.type}`,
    source: row.source,
    ...(row.subject === null ? {} : { subject: row.subject }),
    time,
    datacontenttype: 'application/json',
    data: row.data,
    ...(row.metadata['correlationid'] === undefined
      ? {}
      : { correlationid: row.metadata['correlationid'] }),
    ...(row.metadata['actor'] === undefined ? {} : { actor: row.metadata['actor'] }),
  }).map((event) => ({
    event,
    streamId: row.stream_id,
    streamPosition: Number(row.stream_position),
    globalPosition: row.global_position,
    transactionId: row.transaction_id,
    cursor: encodeCursor({
      transactionId: row.transaction_id,
      globalPosition: row.global_position,
    }),
    recordedAt: row.recorded_at.toISOString(),
  }));
}

/** The select list the read queries share; `alias` qualifies it for joins. */
export function eventColumns(alias?: string): string {
  const a = alias === undefined ? '' : `${alias}.`;
  return `${a}global_position::text AS global_position,
    ${a}transaction_id::text AS transaction_id, ${a}event_id::text AS event_id, ${a}type,
    ${a}source, ${a}subject, ${a}stream_id, ${a}stream_position::text AS stream_position,
    ${a}time, ${a}recorded_at, ${a}data, ${a}metadata`;
}
