import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LifecycleEvent } from '@hodei/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEventBus, refuseEventsOf, type TestEventBus } from '../testing/index.js';
import { EventBusPublisher } from './event-bus-publisher.js';

let n = 0;
const ready = (workerId: string, providerId = 'p-pubgroup'): LifecycleEvent => {
  n += 1;
  return {
    eventId: `01960000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
    type: 'WorkerEphemeralReady',
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    providerId,
    workerId,
    actor: 'api',
  };
};

describe('EventBusPublisher with concurrent publishers (group commit)', () => {
  let t: TestEventBus;
  let dir: string;
  let publisher: EventBusPublisher;

  beforeAll(async () => {
    t = await createTestEventBus('pubgroup');
    dir = mkdtempSync(join(tmpdir(), 'hodei-pubgroup-'));
    publisher = EventBusPublisher.open({ bus: t.bus, spoolDirectory: dir })._unsafeUnwrap();
    await refuseEventsOf(t, 'p-poison');
  });

  afterAll(async () => {
    await publisher?.close();
    await t?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = async (streamId: string) =>
    (
      await sql<{ event_id: string; transaction_id: string }>`
        SELECT event_id::text AS event_id, transaction_id::text AS transaction_id
        FROM ${sql.id(t.schema, 'events')} WHERE stream_id = ${streamId}
        ORDER BY stream_position`.execute(t.bus.db)
    ).rows;

  it('stores what 16 concurrent publishers publish, shares commits, and keeps each worker in order', async () => {
    const published = new Map<string, string[]>();
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        const workerId = `w-pub-${w}`;
        for (let i = 0; i < 15; i += 1) {
          const event = ready(workerId);
          (await publisher.publish(event))._unsafeUnwrap();
          published.set(workerId, [...(published.get(workerId) ?? []), event.eventId]);
        }
      }),
    );
    // A worker whose transitions publish without waiting for each other.
    const burst = Array.from({ length: 10 }, () => ready('w-pub-burst'));
    const results = await Promise.all(burst.map((e) => publisher.publish(e)));
    for (const r of results) expect(r.isOk()).toBe(true);
    published.set(
      'w-pub-burst',
      burst.map((e) => e.eventId),
    );
    const transactions = new Set<string>();
    for (const [workerId, ids] of published) {
      const stored = await rows(`worker:${workerId}`);
      expect(stored.map((r) => r.event_id)).toEqual(ids);
      for (const r of stored) transactions.add(r.transaction_id);
    }
    expect(transactions.size).toBeLessThan(16 * 15 + 10);
    expect(publisher.state().spooledCount).toBe(0);
  });

  it('spools only the event PostgreSQL refuses; the others publishing beside it are stored', async () => {
    const good = Array.from({ length: 10 }, (_, i) => ready(`w-pub-good-${i}`));
    const poisoned = ready('w-pub-bad', 'p-poison');
    const results = await Promise.all([
      ...good.slice(0, 5).map((e) => publisher.publish(e)),
      publisher.publish(poisoned),
      ...good.slice(5).map((e) => publisher.publish(e)),
    ]);
    for (const r of results) expect(r.isOk()).toBe(true);
    for (const e of good) {
      const workerId = 'workerId' in e ? e.workerId : '';
      expect((await rows(`worker:${workerId}`)).map((r) => r.event_id)).toEqual([e.eventId]);
    }
    expect(await rows('worker:w-pub-bad')).toEqual([]);
    expect(publisher.state().spooledCount).toBe(1);
  });
});
