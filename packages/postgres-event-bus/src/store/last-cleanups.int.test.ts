import type { LifecycleEvent } from '@hodei/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEventBus, type TestEventBus } from '../testing/index.js';

let counter = 0;
/** An event id unique within this file. */
const nextId = (): string => {
  counter += 1;
  return `01920000-0000-7000-8001-${counter.toString(16).padStart(12, '0')}`;
};

const at = (minute: number): string => new Date(Date.UTC(2025, 3, 1, 10, minute)).toISOString();

const meta = (workerId: string, minute: number, resourceId: string) => ({
  eventId: nextId(),
  occurredAt: at(minute),
  providerId: 'p-c',
  workerId,
  resourceId,
});

const created = (workerId: string, minute: number, resourceId: string): LifecycleEvent => ({
  ...meta(workerId, minute, resourceId),
  type: 'WorkerEphemeralCreated',
  mode: 'agent',
  image: 'hodei/worker:test',
  resourceId,
  maxLifetimeSecs: 600,
  ttlAfterCompletionSecs: 60,
});

const cleanedUp = (workerId: string, minute: number, resourceId: string): LifecycleEvent => ({
  ...meta(workerId, minute, resourceId),
  type: 'WorkerEphemeralCleanedUp',
  cleanupReason: 'ForceCleanup',
  cleanupDurationMs: 5,
});

const life = (workerId: string, resourceId: string, minute: number) => ({
  workerId,
  resourceId,
  createdAt: Date.parse(at(minute)),
});

describe('the cleanups of a life, against the real PostgreSQL', () => {
  let t: TestEventBus;

  beforeAll(async () => {
    t = await createTestEventBus('last_cleanups');
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('gives the cleanup of the life asked for, never one of an earlier life of the id', async () => {
    const done1 = cleanedUp('w-c1', 2, 'r-1');
    await t.bus.store.appendBatch([created('w-c1', 1, 'r-1'), done1]);
    await t.bus.store.appendBatch([created('w-c1', 3, 'r-2')]);

    const store = t.bus.store;
    expect((await store.lastCleanups('p-c', [life('w-c1', 'r-1', 1)]))._unsafeUnwrap()).toEqual(
      new Map([['w-c1', done1]]),
    );
    expect((await store.lastCleanups('p-c', [life('w-c1', 'r-2', 3)]))._unsafeUnwrap()).toEqual(
      new Map(),
    );
  });
});
