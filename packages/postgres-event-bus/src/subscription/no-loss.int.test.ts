import type { LifecycleEvent } from '@hodei/domain';
import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventBus } from '../event-bus.js';
import type { StoredEvent } from '../store/event-row.js';
import { runInTransaction } from '../store/run-in-transaction.js';
import { createTestEventBus, type TestEventBus, waitUntil } from '../testing/index.js';

const WRITERS = 20;
const TRANSACTIONS_PER_WRITER = 20;
const WORKERS = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('no loss under concurrency', () => {
  let t: TestEventBus;
  let writerBus: PostgresEventBus;

  beforeAll(async () => {
    t = await createTestEventBus('noloss');
    writerBus = PostgresEventBus.create({
      connectionString: t.url,
      schema: t.schema,
      poolSize: WRITERS + 2,
    })._unsafeUnwrap();
  });

  afterAll(async () => {
    await writerBus?.close();
    await t?.drop();
  });

  it('delivers every committed event exactly once per subscription, none rolled back, in stream order', async () => {
    const received = { a: [] as StoredEvent[], b: [] as StoredEvent[] };
    const subA = t.bus.subscriptions
      .subscribe({ name: 'torture-a', batchSize: 50, handler: (s) => void received.a.push(s) })
      ._unsafeUnwrap();
    const subB = t.bus.subscriptions
      .subscribe({
        name: 'torture-b',
        batchSize: 7,
        handler: async (s) => {
          await sleep(Math.random() < 0.05 ? 2 : 0);
          received.b.push(s);
        },
      })
      ._unsafeUnwrap();

    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    let seq = 0;
    const writer = async (w: number) => {
      for (let i = 0; i < TRANSACTIONS_PER_WRITER; i += 1) {
        const events: LifecycleEvent[] = [];
        const count = 1 + Math.floor(Math.random() * 3);
        const workerId = `w-${Math.floor(Math.random() * WORKERS)}`;
        for (let k = 0; k < count; k += 1) {
          seq += 1;
          events.push({
            eventId: `01930000-0000-7000-8000-${seq.toString(16).padStart(12, '0')}`,
            type: 'WorkerEphemeralBusy',
            occurredAt: new Date(Date.UTC(2025, 0, 1) + seq).toISOString(),
            providerId: 'p-torture',
            workerId,
            correlationId: `writer-${w}`,
          });
        }
        const rollback = Math.random() < 0.1;
        // A third append on their own (one statement, retried on a position collision), the
        // rest inside a transaction held open for a while that sometimes rolls back.
        const alone = !rollback && Math.random() < 0.3;
        const result = alone
          ? await writerBus.store.appendBatch(events)
          : await runInTransaction(writerBus.db, (trx) =>
              writerBus.store
                .appendBatch(events, { executor: trx })
                .andThen(() =>
                  ResultAsync.fromSafePromise(sleep(Math.random() * 30)).andThen(() =>
                    rollback ? errAsync({ type: 'Rollback' as const }) : okAsync(undefined),
                  ),
                ),
            );
        const target = result.isOk() ? committed : rolledBack;
        if (result.isErr() && result.error.type !== 'Rollback')
          throw new Error(result.error.message);
        for (const e of events) target.add(e.eventId);
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    expect(rolledBack.size).toBeGreaterThan(0);

    await waitUntil(
      () => received.a.length >= committed.size && received.b.length >= committed.size,
      `both subscriptions to see ${committed.size} events`,
      60_000,
    );
    await sleep(300);
    await subA.stop();
    await subB.stop();

    for (const list of [received.a, received.b]) {
      const ids = list.map((s) => s.event.eventId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(committed);
      const lastPosition = new Map<string, number>();
      for (const s of list) {
        expect(s.streamPosition).toBeGreaterThan(lastPosition.get(s.streamId) ?? 0);
        lastPosition.set(s.streamId, s.streamPosition);
      }
    }
    const stored = (await t.bus.store.readFrom(null, { limit: 100_000 }))._unsafeUnwrap();
    expect(stored.some((s) => rolledBack.has(s.event.eventId))).toBe(false);
  });
});
