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
 * The rows shown: by id, in display order (a Map keeps its insertion order), never more than
 * the page size; `newBeyond` counts the new workers that matched but found the page full.
 */
export interface FleetRows {
  readonly byId: ReadonlyMap<string, FleetRow>;
  readonly newBeyond: number;
}

export const rowsOf = (workers: readonly Worker[], pageSize: number): FleetRows => ({
  byId: new Map(workers.slice(0, pageSize).map((w) => [w.id, rowOf(w)])),
  newBeyond: 0,
});

/** Where the events apply: the filters, whether this is the first page, and its size. */
export interface PageContext {
  readonly filter: ListFilter;
  readonly onFirstPage: boolean;
  readonly pageSize: number;
}

/**
 * The rows after a batch of live events: a new worker matching the filters joins the first
 * page at the top while it has room, and is only counted once it is full (the page never
 * grows past its size); a known one takes its new state; a cleaned-up one stays, marked,
 * until the next list. One copy per batch, a lookup by id per event.
 */
export function applyEvents(
  rows: FleetRows,
  events: readonly CloudEvent[],
  context: PageContext,
): FleetRows {
  let added: FleetRow[] = [];
  const known = new Map(rows.byId);
  let newBeyond = rows.newBeyond;
  let changed = false;
  for (const event of events) {
    const id = event.subject;
    if (id === undefined) continue;
    const type = shortType(event);
    const row = known.get(id);
    if (row === undefined) {
      if (type !== 'WorkerEphemeralCreated' || !context.onFirstPage) continue;
      const created = createdRow(event, id);
      if (!matchesFilter(created, context.filter)) continue;
      changed = true;
      if (known.size < context.pageSize) {
        added = [created, ...added];
        known.set(id, created);
      } else newBeyond++;
      continue;
    }
    changed = true;
    known.set(id, moved(row, event, type, context.filter));
  }
  if (!changed) return rows;
  if (added.length === 0) return { byId: known, newBeyond };
  // The new ones first, newest at the top, then the rest in their order.
  const byId = new Map<string, FleetRow>();
  for (const row of added) byId.set(row.id, known.get(row.id) ?? row);
  for (const [id, row] of known) if (!byId.has(id)) byId.set(id, row);
  return { byId, newBeyond };
}

/** A known row after one of its events. */
function moved(row: FleetRow, event: CloudEvent, type: string, filter: ListFilter): FleetRow {
  const state = stateAfter(event, type) ?? row.state;
  const next: FleetRow = { ...row, state, lastEvent: { type, time: event.time } };
  const flag: FleetRow['flag'] =
    type === 'WorkerEphemeralCleanedUp'
      ? 'cleaned-up'
      : !matchesFilter(next, filter)
        ? 'left-filter'
        : row.flag === 'left-filter'
          ? null
          : row.flag;
  return { ...next, flag };
}
