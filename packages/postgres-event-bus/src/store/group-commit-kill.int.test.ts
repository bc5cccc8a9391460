import type { LifecycleEvent } from '@hodei/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestEventBus,
  onInsertOf,
  type PrivateCluster,
  startPrivateCluster,
  storedEventIds,
  type TestEventBus,
  waitUntil,
} from '../testing/index.js';

let counter = 0;
const busy = (workerId: string, providerId = 'p-kill'): LifecycleEvent => {
  counter += 1;
  return {
    eventId: `01970000-0000-7000-8000-${counter.toString(16).padStart(12, '0')}`,
    type: 'WorkerEphemeralBusy',
    occurredAt: new Date(Date.UTC(2025, 0, 1) + counter).toISOString(),
    providerId,
    workerId,
    actor: 'api',
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// On a private cluster: the group held open mid-insert would hold back every reader of the
// shared database (they stop at the oldest running transaction).
describe('group commit when the connection dies mid-group', () => {
  let cluster: PrivateCluster;
  let t: TestEventBus;
  const application = 'hodei-group-kill';

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    t = await createTestEventBus('groupkill', {
      connectionString: cluster.url,
      applicationName: application,
      maxGroupsInFlight: 1,
    });
    // A `p-slow` event holds its transaction open, rows inserted, until the backend dies.
    await onInsertOf(t, 'p-slow', 'AFTER', 'PERFORM pg_sleep(60)');
  });

  afterAll(async () => {
    await t?.drop();
    await cluster?.destroy();
  });

  const storedIds = () => storedEventIds(t);

  it('tells no caller Ok for an event not in the table when the connection dies mid-group', async () => {
    const terminate = () =>
      sql<{ n: number }>`
        SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE application_name = ${application} AND wait_event = 'PgSleep'`.execute(t.bus.db);
    const slowGroup = [
      [busy('w-kill-0')],
      [busy('w-kill-1', 'p-slow')],
      ...Array.from({ length: 15 }, (_, i) => [busy(`w-kill-${i % 4}`)]),
    ];
    const first = slowGroup.map((events) => t.bus.store.appendBatch(events));
    // Callers that arrive while the group is in flight: on its streams they wait for it,
    // on others they may go beside it.
    await sleep(50);
    const later = Array.from({ length: 12 }, (_, i) => [busy(`w-kill-${i % 6}`)]);
    const second = later.map((events) => t.bus.store.appendBatch(events));
    await waitUntil(async () => ((await terminate()).rows[0]?.n ?? 0) > 0, 'the sleeping group');
    const calls = [...slowGroup, ...later];
    const results = await Promise.all([...first, ...second]);
    const stored = await storedIds();
    const okIds = calls.flatMap((events, i) => (results[i]?.isOk() ? events : []));
    for (const e of okIds) expect(stored.has(e.eventId)).toBe(true);
    // The killed group had every first caller in it: none committed, all were told so.
    slowGroup.forEach((events, i) => {
      expect(results[i]?.isErr() && results[i]?.error.type).toBe('EventStoreUnavailable');
      for (const e of events) expect(stored.has(e.eventId)).toBe(false);
    });
    // The callers queued behind it went on, in later groups, once it was gone.
    expect(results.slice(slowGroup.length).every((r) => r.isOk())).toBe(true);
  });
});
