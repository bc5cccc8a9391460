import type { LifecycleEvent } from '@hodei/domain';
import {
  decodeCursor,
  redactDatabaseUrl,
  type LogPosition,
  type PostgresEventBus,
} from '@hodei/postgres-event-bus';
import { err, ok } from 'neverthrow';
import type {
  CatchUpEnd,
  CatchUpItem,
  CatchUpSource,
  PageSizes,
} from '../events/catch-up-source.js';
import { matchesFilter, type EventFilter } from '../events/event-filter.js';
import type { LiveEventStream } from '../events/live-event-stream.js';
import { eventFrame, sseFrame } from '../events/sse-frames.js';
import type { HistorySource } from '../workers/worker-service.js';

/** A worker's history: from the event store when there is one, then the live memory. */
export function historySource(
  live: LiveEventStream,
  bus: PostgresEventBus | undefined,
  databaseUrl: string | undefined,
): HistorySource {
  return {
    eventsOfWorker: async (workerId) => {
      if (bus === undefined) return ok(live.historyOf(workerId) ?? []);
      const stored = await bus.store.eventsOfWorker(workerId, { limit: 10_000 });
      if (stored.isErr()) {
        return err({
          type: 'ProviderUnavailable' as const,
          providerId: 'event-store' as never,
          endpoint: redactDatabaseUrl(databaseUrl ?? ''),
          message: `the event store is unavailable: ${stored.error.message}`,
          retryable: true as const,
        });
      }
      // Events still in the spool are not in the store yet: the live memory has them.
      const seen = new Set(stored.value.map((s) => s.event.eventId));
      const recent = (live.historyOf(workerId) ?? []).filter((e) => !seen.has(e.eventId));
      return ok([...stored.value.map((s) => s.event), ...recent]);
    },
  };
}

/**
 * What a resuming SSE client missed: the event store's pages after its `Last-Event-ID` (an
 * event id, or a cursor a `reset` gave it), filtered in SQL, then the events the live memory
 * holds that the store does not have yet (spooled, or behind a transaction still open).
 * Without a database, the live memory alone.
 */
export function catchUpSource(
  live: LiveEventStream,
  bus: PostgresEventBus | undefined,
): CatchUpSource {
  return {
    pages: (lastEventId, filter, sizes) =>
      bus === undefined
        ? memoryPages(live, lastEventId, filter, sizes.rest)
        : storePages(bus, live, lastEventId, filter, sizes),
    // The store's head when there is one: other servers write to it too, unseen live here.
    resumePoint: async () => {
      const head = bus === undefined ? undefined : await bus.store.headCursor();
      return head?.isOk() === true ? head.value : live.newest()?.eventId;
    },
  };
}

/** The missed events still in the live memory that match, by id; `undefined` if it fell out. */
function recentMatching(
  live: LiveEventStream,
  lastEventId: string,
  filter: EventFilter,
): Map<string, LifecycleEvent> | undefined {
  const recent = live.after(lastEventId);
  if (recent === undefined) return undefined;
  const matching = new Map<string, LifecycleEvent>();
  for (const e of recent) if (matchesFilter(filter, e)) matching.set(e.eventId, e);
  return matching;
}

function* pagesOf(events: Iterable<LifecycleEvent>, pageSize: number): Generator<CatchUpItem[]> {
  let page: CatchUpItem[] = [];
  for (const e of events) {
    page.push({ eventId: e.eventId, frame: sseFrame(e) });
    if (page.length === pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

// eslint-disable-next-line @typescript-eslint/require-await -- the port's pages are async
async function* memoryPages(
  live: LiveEventStream,
  lastEventId: string,
  filter: EventFilter,
  pageSize: number,
): AsyncGenerator<readonly CatchUpItem[], CatchUpEnd, void> {
  const recent = recentMatching(live, lastEventId, filter);
  if (recent === undefined) return { kind: 'unknown' };
  yield* pagesOf(recent.values(), pageSize);
  return { kind: 'complete' };
}

async function* storePages(
  bus: PostgresEventBus,
  live: LiveEventStream,
  lastEventId: string,
  filter: EventFilter,
  sizes: PageSizes,
): AsyncGenerator<readonly CatchUpItem[], CatchUpEnd, void> {
  const recent = recentMatching(live, lastEventId, filter);
  const cursor = decodeCursor(lastEventId);
  const start = cursor.isOk() ? ok(cursor.value) : await bus.store.positionOf(lastEventId);
  if (start.isErr()) return { kind: 'failed', message: start.error.message };
  let position: LogPosition | undefined = start.value;
  if (position === undefined && recent === undefined) return { kind: 'unknown' };
  let limit = sizes.first;
  while (position !== undefined) {
    const page = await bus.store.readCloudEventJsonAfter(position, filter, limit);
    if (page.isErr()) return { kind: 'failed', message: page.error.message };
    const items = page.value.map((e) => ({
      eventId: e.eventId,
      frame: eventFrame(e.eventId, e.json),
    }));
    for (const item of items) recent?.delete(item.eventId);
    if (items.length > 0) yield items;
    const last = page.value.at(-1);
    position =
      last === undefined || page.value.length < limit
        ? undefined
        : { transactionId: last.transactionId, globalPosition: last.globalPosition };
    limit = sizes.rest;
  }
  if (recent !== undefined) yield* pagesOf(recent.values(), sizes.rest);
  return { kind: 'complete' };
}
