import { shortType, type CloudEventJson } from './api-types.js';
import type { Style } from './colour.js';
import { ageOf } from './format-age.js';
import type { Cell } from './table.js';

const show = (value: unknown): string => {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
};

/** Events whose last activity is the event itself (its time): only its `by` is shown. */
const ACTIVITY_EVENTS: ReadonlySet<string> = new Set([
  'WorkerEphemeralReady',
  'WorkerEphemeralBusy',
]);

/**
 * Events whose resource id says something of their own (the life starts, is re-adopted or
 * lost); on the others it only tells lives apart (`-o json` keeps it), so the table omits it.
 */
const RESOURCE_EVENTS: ReadonlySet<string> = new Set([
  'WorkerEphemeralCreated',
  'WorkerRecovered',
  'WorkerLost',
  'OrphanWorkerDetected',
]);

/** An event's data as `key=value` pairs (nulls left out), for a table's last column. */
export const eventDetails = (e: CloudEventJson): string =>
  Object.entries(e.data)
    .filter(([, v]) => v !== null && v !== undefined)
    .filter(([k]) => k !== 'resourceId' || RESOURCE_EVENTS.has(shortType(e.type)))
    .map(([k, v]) =>
      k === 'lastActivity' && ACTIVITY_EVENTS.has(shortType(e.type))
        ? `by=${show(byOf(v))}`
        : `${k}=${show(v)}`,
    )
    .join(' ');

/** Who a lastActivity names (`{ at, by }`), `unknown` if it names no one. */
const byOf = (activity: unknown): string => {
  const by = (activity as { by?: unknown } | null)?.by;
  return typeof by === 'string' ? by : 'unknown';
};

/** The provider of an event, from its source `/hodei/providers/<id>`. */
export const providerOf = (e: CloudEventJson): string =>
  e.source.startsWith('/hodei/providers/') ? e.source.slice('/hodei/providers/'.length) : e.source;

const str = (v: unknown): string =>
  typeof v === 'string' || typeof v === 'number' ? String(v) : '?';

/** What an event means for its worker, in a few words: "ready", "terminated (exit code 3)". */
export function eventSummary(e: CloudEventJson): string {
  const d = e.data;
  switch (shortType(e.type)) {
    case 'WorkerEphemeralCreated':
      return `created (image ${str(d['image'])})`;
    case 'WorkerEphemeralReady':
      return 'ready';
    case 'WorkerEphemeralBusy':
      return 'busy';
    case 'WorkerEphemeralIdle':
      return 'idle';
    case 'WorkerEphemeralTerminating':
      return `terminating (${str(d['reason'])})`;
    case 'WorkerEphemeralTerminated':
      return `terminated (exit code ${d['exitCode'] === null ? 'none' : str(d['exitCode'])}${d['forced'] === true ? ', forced' : ''})`;
    case 'WorkerEphemeralFailed':
      return `failed: ${str(d['error'])}`;
    case 'WorkerEphemeralCleanedUp':
      return `cleaned up (${str(d['cleanupReason'])})`;
    case 'WorkerLost':
      return `lost (was ${str(d['lastKnownState'])})`;
    case 'WorkerRecovered':
      return `recovered (${str(d['recoveredState'])})`;
    default:
      return shortType(e.type);
  }
}

const typeStyle = (type: string): Style | undefined => {
  if (type.endsWith('Failed') || type === 'WorkerLost' || type === 'OrphanWorkerDetected')
    return 'red';
  if (type.endsWith('Terminating') || type.endsWith('Terminated')) return 'yellow';
  if (type.endsWith('Ready') || type.endsWith('Busy')) return 'green';
  return undefined;
};

export const EVENT_HEADERS = ['AGE', 'TYPE', 'WORKER', 'DETAILS'];
export const EVENT_WIDE_HEADERS = [
  'TIME',
  'TYPE',
  'WORKER',
  'PROVIDER',
  'ACTOR',
  'CORRELATION',
  'ID',
  'DETAILS',
];
/** Column widths of a streamed event table: the longest type name is 26 characters. */
export const EVENT_STREAM_HEADERS = ['TIME', 'TYPE', 'WORKER', 'DETAILS'];
export const EVENT_STREAM_WIDTHS = [24, 26, 20];

/** A row of an event table; `now` for the AGE column, `undefined` for the TIME column. */
export function eventRow(e: CloudEventJson, wide: boolean, now: number | undefined): Cell[] {
  const type = shortType(e.type);
  const typeCell: Cell = { text: type, style: typeStyle(type) };
  const worker = e.subject ?? '-';
  if (wide) {
    return [
      e.time,
      typeCell,
      worker,
      providerOf(e),
      e.actor ?? '-',
      e.correlationid ?? '-',
      e.id,
      eventDetails(e),
    ];
  }
  return [now === undefined ? e.time : ageOf(e.time, now), typeCell, worker, eventDetails(e)];
}
