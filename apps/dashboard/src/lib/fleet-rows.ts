import type { ListFilter } from '../api/hodei-api';
import { providerOf, shortType } from '../api/live-events';
import type { CloudEvent, Worker, WorkerMode, WorkerState } from '../api/types';

/**
 * A row of the fleet table: a worker as listed, then kept current by the live events (so a
 * change needs no new list request). `flag` says what the events did since the page loaded.
 */
export interface FleetRow {
  readonly id: string;
  readonly providerId: string;
  readonly mode: WorkerMode;
  readonly state: WorkerState;
  readonly image: string;
  readonly createdAt: string;
  readonly lastEvent: { readonly type: string; readonly time: string } | null;
  readonly flag: 'new' | 'left-filter' | 'cleaned-up' | null;
}

/** The state each state event moves a worker to (the domain's STATE_OF_EVENT). */
const STATE_OF_EVENT: Readonly<Record<string, WorkerState>> = {
  WorkerEphemeralCreated: 'creating',
  WorkerEphemeralReady: 'ready',
  WorkerEphemeralBusy: 'busy',
  WorkerEphemeralTerminating: 'terminating',
  WorkerEphemeralTerminated: 'terminated',
  WorkerEphemeralFailed: 'failed',
  WorkerRecovered: 'ready',
};

export const rowOf = (worker: Worker): FleetRow => ({
  id: worker.id,
  providerId: worker.providerId,
  mode: worker.mode,
  state: worker.state,
  image: worker.image,
  createdAt: worker.createdAt,
  lastEvent: null,
  flag: null,
});

export const matchesFilter = (row: FleetRow, filter: ListFilter): boolean =>
  (filter.state === undefined || row.state === filter.state) &&
  (filter.providerId === undefined || row.providerId === filter.providerId) &&
  (filter.mode === undefined || row.mode === filter.mode);

function createdRow(event: CloudEvent, id: string): FleetRow {
  const mode = event.data['mode'] === 'agent' ? 'agent' : 'job';
  const image = typeof event.data['image'] === 'string' ? event.data['image'] : '';
  return {
    id,
    providerId: providerOf(event),
    mode,
    state: 'creating',
    image,
    createdAt: event.time,
    lastEvent: { type: shortType(event), time: event.time },
    flag: 'new',
  };
}

/** The state an event leaves its worker in; a recovery names it. */
function stateAfter(event: CloudEvent, type: string): WorkerState | undefined {
  if (type === 'WorkerRecovered') {
    const s = event.data['recoveredState'];
    return typeof s === 'string' ? (s as WorkerState) : undefined;
  }
  return STATE_OF_EVENT[type];
}

/**
 * The rows after one live event: a new worker matching the filters joins the first page at
 * the top; a known one takes its new state; a cleaned-up one stays, marked, until the next list.
 */
export function applyEvent(
  rows: readonly FleetRow[],
  event: CloudEvent,
  filter: ListFilter,
  onFirstPage: boolean,
): readonly FleetRow[] {
  const id = event.subject;
  if (id === undefined) return rows;
  const type = shortType(event);
  const index = rows.findIndex((r) => r.id === id);
  if (index === -1) {
    if (type !== 'WorkerEphemeralCreated' || !onFirstPage) return rows;
    const row = createdRow(event, id);
    return matchesFilter(row, filter) ? [row, ...rows] : rows;
  }
  const row = rows[index];
  if (row === undefined) return rows;
  const state = stateAfter(event, type) ?? row.state;
  const moved: FleetRow = { ...row, state, lastEvent: { type, time: event.time } };
  const flag: FleetRow['flag'] =
    type === 'WorkerEphemeralCleanedUp'
      ? 'cleaned-up'
      : !matchesFilter(moved, filter)
        ? 'left-filter'
        : row.flag === 'left-filter'
          ? null
          : row.flag;
  const next = [...rows];
  next[index] = { ...moved, flag };
  return next;
}
