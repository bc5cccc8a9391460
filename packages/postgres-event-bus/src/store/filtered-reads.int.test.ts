import { randomUUID } from 'node:crypto';
import { toCloudEvent, type LifecycleEvent, type LifecycleEventType } from '@hodei/domain';
import { sampleEvents } from '@hodei/domain/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEventBus, type TestEventBus } from '../testing/index.js';
import { decodeCursor, START_POSITION, type LogPosition } from './cursor.js';
import type { EventFilter } from './filtered-reads.js';

const at = '2025-03-01T10:00:00.000Z';

const stateEvent = (
  workerId: string,
  type: 'WorkerEphemeralReady' | 'WorkerEphemeralBusy',
): LifecycleEvent => ({ eventId: randomUUID(), type, occurredAt: at, providerId: 'p-f', workerId });

const orphanNaming = (workerId: string): LifecycleEvent => ({
  eventId: randomUUID(),
  type: 'OrphanWorkerDetected',
  occurredAt: at,
  providerId: 'p-f',
  workerId,
  resourceId: 'r-orphan',
  lastSeen: at,
  orphanedDurationSecs: 60,
  action: 'reported',
});

describe('filtered, paged reads of the log against the real PostgreSQL', () => {
  let t: TestEventBus;
  const log: LifecycleEvent[] = [];

  beforeAll(async () => {
    t = await createTestEventBus('filtered');
    // Two workers interleaved, each alternating ready and busy, and an orphan report naming one.
    for (let i = 0; i < 12; i += 1) {
      const type = i % 4 < 2 ? 'WorkerEphemeralReady' : 'WorkerEphemeralBusy';
      log.push(stateEvent(i % 2 === 0 ? 'w-a' : 'w-b', type));
    }
    log.splice(5, 0, orphanNaming('w-a'));
    // In several transactions, so the pages cross transaction boundaries.
    for (let i = 0; i < log.length; i += 4) {
      (await t.bus.store.appendBatch(log.slice(i, i + 4)))._unsafeUnwrap();
    }
  });

  afterAll(async () => {
    await t?.drop();
  });

  /** Every matching event after `from`, read `pageSize` at a time. */
  const readAll = async (
    from: LogPosition,
    filter: EventFilter,
    pageSize: number,
  ): Promise<{ ids: string[]; pages: number }> => {
    const ids: string[] = [];
    let position = from;
    let pages = 0;
    for (;;) {
      const page = (
        await t.bus.store.readAfter(position, pageSize, undefined, filter)
      )._unsafeUnwrap();
      pages += 1;
      ids.push(...page.map((s) => s.event.eventId));
      const last = page.at(-1);
      if (last === undefined || page.length < pageSize) return { ids, pages };
      position = { transactionId: last.transactionId, globalPosition: last.globalPosition };
    }
  };

  const idsWhere = (keep: (e: LifecycleEvent) => boolean, after = 0): string[] =>
    log
      .slice(after)
      .filter(keep)
      .map((e) => e.eventId);
  const ofWorker = (id: string) => (e: LifecycleEvent) =>
    e.type !== 'OrphanWorkerDetected' && 'workerId' in e && e.workerId === id;
  const ofType = (type: LifecycleEventType) => (e: LifecycleEvent) => e.type === type;

  it("pages through one worker's own events in log order, leaving out orphan reports naming it", async () => {
    const { ids, pages } = await readAll(START_POSITION, { workerId: 'w-a' }, 2);
    expect(ids).toEqual(idsWhere(ofWorker('w-a')));
    expect(pages).toBeGreaterThan(2);
  });

  it('pages through the events of one type, and of one type for one worker', async () => {
    expect((await readAll(START_POSITION, { type: 'WorkerEphemeralBusy' }, 2)).ids).toEqual(
      idsWhere(ofType('WorkerEphemeralBusy')),
    );
    expect(
      (await readAll(START_POSITION, { workerId: 'w-b', type: 'WorkerEphemeralReady' }, 1)).ids,
    ).toEqual(idsWhere((e) => ofWorker('w-b')(e) && e.type === 'WorkerEphemeralReady'));
    expect((await readAll(START_POSITION, {}, 5)).ids).toEqual(idsWhere(() => true));
  });

  it('pages through the events of any of several types, or of all types but some', async () => {
    const both = ['WorkerEphemeralBusy', 'OrphanWorkerDetected'] as const;
    expect((await readAll(START_POSITION, { types: both }, 2)).ids).toEqual(
      idsWhere((e) => (both as readonly string[]).includes(e.type)),
    );
    expect(
      (await readAll(START_POSITION, { excludeTypes: ['OrphanWorkerDetected'] }, 3)).ids,
    ).toEqual(idsWhere((e) => e.type !== 'OrphanWorkerDetected'));
    expect(
      (
        await readAll(
          START_POSITION,
          { workerId: 'w-a', types: both, excludeTypes: ['WorkerEphemeralReady'] },
          1,
        )
      ).ids,
    ).toEqual(idsWhere((e) => ofWorker('w-a')(e) && e.type === 'WorkerEphemeralBusy'));
    expect((await readAll(START_POSITION, { types: [] }, 5)).ids).toEqual([]);
  });

  it("starts after a stored event's position, whatever the filter", async () => {
    const from = log[6]!;
    const position = (await t.bus.store.positionOf(from.eventId))._unsafeUnwrap();
    expect(position).toBeDefined();
    const { ids } = await readAll(position!, { workerId: 'w-a' }, 2);
    expect(ids).toEqual(idsWhere(ofWorker('w-a'), 7));
  });

  it('finds no position for an event it does not hold, or for an id that is no UUID', async () => {
    expect((await t.bus.store.positionOf(randomUUID()))._unsafeUnwrap()).toBeUndefined();
    expect((await t.bus.store.positionOf('not-a-uuid'))._unsafeUnwrap()).toBeUndefined();
  });

  it('renders each event as the CloudEvent toCloudEvent gives: every type, with and without the optional members', async () => {
    const head = decodeCursor((await t.bus.store.headCursor())._unsafeUnwrap())._unsafeUnwrap();
    const withMeta = sampleEvents('p-json', 'w-json').map((e) => ({ ...e, eventId: randomUUID() }));
    const bare = withMeta.map(({ correlationId: _c, actor: _a, ...e }) => ({
      ...e,
      eventId: randomUUID(),
    })) as LifecycleEvent[];
    const tricky: LifecycleEvent = {
      eventId: randomUUID(),
      occurredAt: at,
      providerId: 'p-f',
      workerId: 'w-json',
      type: 'WorkerEphemeralFailed',
      error: 'line 1\nline 2 "quoted" \\ tab\t ü € \u2028 😀',
    };
    const events = [...withMeta, ...bare, tricky];
    (await t.bus.store.appendBatch(events))._unsafeUnwrap();
    const rendered = (await t.bus.store.readCloudEventJsonAfter(head, {}, 1000))._unsafeUnwrap();
    expect(rendered.map((r) => r.eventId)).toEqual(events.map((e) => e.eventId));
    expect(rendered.map((r) => r.type)).toEqual(events.map((e) => e.type));
    expect(rendered.map((r) => JSON.parse(r.json) as unknown)).toEqual(events.map(toCloudEvent));
    const busy = (
      await t.bus.store.readCloudEventJsonAfter(
        head,
        { workerId: 'w-json', type: 'WorkerEphemeralBusy' },
        10,
      )
    )._unsafeUnwrap();
    expect(busy.map((r) => r.eventId)).toEqual(
      events.filter((e) => e.type === 'WorkerEphemeralBusy').map((e) => e.eventId),
    );
  });
});
