import type { LifecycleEvent } from '@hodei/domain';
import { redactDatabaseUrl, type PostgresEventBus } from '@hodei/postgres-event-bus';
import { err, ok } from 'neverthrow';
import type { LiveEventStream } from '../events/live-event-stream.js';
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

/** Events after `eventId`: from the event store when there is one, then the live memory. */
export async function resumeAfter(
  eventId: string,
  live: LiveEventStream,
  bus: PostgresEventBus | undefined,
): Promise<readonly LifecycleEvent[] | undefined> {
  const recent = live.after(eventId);
  if (bus === undefined) return recent;
  const position = await bus.db
    .withSchema(bus.schema)
    .selectFrom('events')
    .select(['transaction_id', 'global_position'])
    .where('event_id', '=', eventId)
    .executeTakeFirst()
    .catch(() => undefined);
  if (position === undefined) return recent;
  // Page through everything stored after it.
  const stored: LifecycleEvent[] = [];
  let after = { transactionId: position.transaction_id, globalPosition: position.global_position };
  for (;;) {
    const page = await bus.store.readAfter(after, 1_000);
    if (page.isErr()) return recent;
    for (const s of page.value) stored.push(s.event);
    const last = page.value.at(-1);
    if (last === undefined || page.value.length < 1_000) break;
    after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
  }
  const seen = new Set(stored.map((e) => e.eventId));
  const events = stored;
  // Newer events still spooled (not yet in the store) come from memory.
  for (const e of recent ?? []) if (!seen.has(e.eventId)) events.push(e);
  return events;
}
