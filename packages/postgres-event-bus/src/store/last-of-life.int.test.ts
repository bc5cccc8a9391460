import type { LifecycleEvent, PolicySnapshot, WorkerEphemeralPolicyChanged } from '@hodei/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEventBus, type TestEventBus } from '../testing/index.js';

let counter = 0;
/** An event id unique within this file. */
const nextId = (): string => {
  counter += 1;
  return `01920000-0000-7000-8000-${counter.toString(16).padStart(12, '0')}`;
};

const at = (minute: number): string => new Date(Date.UTC(2025, 3, 1, 10, minute)).toISOString();

const meta = (workerId: string, minute: number, resourceId?: string) => ({
  eventId: nextId(),
  occurredAt: at(minute),
  providerId: 'p-l',
  workerId,
  ...(resourceId === undefined ? {} : { resourceId }),
});

const created = (workerId: string, minute: number, resourceId: string): LifecycleEvent => ({
  ...meta(workerId, minute, resourceId),
  type: 'WorkerEphemeralCreated',
  mode: 'job',
  image: 'hodei/worker:test',
  resourceId,
  maxLifetimeSecs: 600,
  ttlAfterCompletionSecs: 60,
});

const snapshot: PolicySnapshot = {
  maxLifetime: 600_000,
  ttlAfterCompletion: 60_000,
  idleTimeout: 120_000,
  gracefulTerminationTimeout: 10_000,
  startupTimeout: 30_000,
  expiryWarning: 60_000,
};

const life = (workerId: string, resourceId: string, minute: number) => ({
  workerId,
  resourceId,
  createdAt: Date.parse(at(minute)),
});

describe('the life-aware history queries against the real PostgreSQL', () => {
  let t: TestEventBus;

  beforeAll(async () => {
    t = await createTestEventBus('last_of_life');
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('gives the last state event of the life asked for, never an earlier life of the id', async () => {
    const busy1: LifecycleEvent = { ...meta('w-l1', 2, 'r-1'), type: 'WorkerEphemeralBusy' };
    const done1: LifecycleEvent = {
      ...meta('w-l1', 3, 'r-1'),
      type: 'WorkerEphemeralTerminated',
      exitCode: 0,
      forced: false,
      cleanupScheduled: true,
      ttlExpiresAt: at(4),
    };
    const ready2: LifecycleEvent = { ...meta('w-l1', 6, 'r-2'), type: 'WorkerEphemeralReady' };
    await t.bus.store.appendBatch([created('w-l1', 1, 'r-1'), busy1, done1]);
    await t.bus.store.appendBatch([created('w-l1', 5, 'r-2'), ready2]);

    const store = t.bus.store;
    expect((await store.lastStateEvents('p-l', [life('w-l1', 'r-2', 5)]))._unsafeUnwrap()).toEqual(
      new Map([['w-l1', ready2]]),
    );
    expect((await store.lastStateEvents('p-l', [life('w-l1', 'r-1', 1)]))._unsafeUnwrap()).toEqual(
      new Map([['w-l1', done1]]),
    );
    // A life whose create left no event (a kill -9 mid-create): nothing of the others.
    expect((await store.lastStateEvents('p-l', [life('w-l1', 'r-3', 7)]))._unsafeUnwrap()).toEqual(
      new Map(),
    );
    // A bare id: its last event of any life.
    expect((await store.lastStateEvents('p-l', ['w-l1']))._unsafeUnwrap()).toEqual(
      new Map([['w-l1', ready2]]),
    );
  });

  it('takes an older event without a resource as of the life created at or before it', async () => {
    const old: LifecycleEvent = { ...meta('w-l2', 10), type: 'WorkerEphemeralBusy' };
    await t.bus.store.appendBatch([old]);
    const store = t.bus.store;
    expect((await store.lastStateEvents('p-l', [life('w-l2', 'r-a', 9)]))._unsafeUnwrap()).toEqual(
      new Map([['w-l2', old]]),
    );
    expect((await store.lastStateEvents('p-l', [life('w-l2', 'r-b', 11)]))._unsafeUnwrap()).toEqual(
      new Map(),
    );
  });

  it('gives a policy change only to the life it was made in', async () => {
    const change: WorkerEphemeralPolicyChanged = {
      ...meta('w-l3', 21, 'r-x'),
      type: 'WorkerEphemeralPolicyChanged',
      previous: snapshot,
      current: { ...snapshot, maxLifetime: 900_000 },
      changed: ['maxLifetime'],
    };
    await t.bus.store.appendBatch([created('w-l3', 20, 'r-x'), change]);
    await t.bus.store.appendBatch([created('w-l3', 30, 'r-y')]);
    const store = t.bus.store;
    expect(
      (await store.lastPolicyChanges('p-l', [life('w-l3', 'r-x', 20)]))._unsafeUnwrap(),
    ).toEqual(new Map([['w-l3', change]]));
    expect(
      (await store.lastPolicyChanges('p-l', [life('w-l3', 'r-y', 30)]))._unsafeUnwrap(),
    ).toEqual(new Map());
  });
});
