import {
  EphemeralWorkerPolicy,
  type LifecycleEvent,
  type PolicySnapshot,
  type WorkerEphemeralPolicyChanged,
} from '@hodei/domain';
import { lifecycleHarness } from '@hodei/domain/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEventBus, type TestEventBus } from '../testing/index.js';

let counter = 0;
/** An event id unique within this file. */
const nextId = (): string => {
  counter += 1;
  return `01910000-0000-7000-8000-${counter.toString(16).padStart(12, '0')}`;
};

const snapshot: PolicySnapshot = {
  maxLifetime: 600_000,
  ttlAfterCompletion: 60_000,
  idleTimeout: 120_000,
  gracefulTerminationTimeout: 10_000,
  startupTimeout: 30_000,
  expiryWarning: 60_000,
};

const policyChanged = (
  workerId: string,
  providerId: string,
  maxLifetime: number,
): WorkerEphemeralPolicyChanged => ({
  eventId: nextId(),
  type: 'WorkerEphemeralPolicyChanged',
  occurredAt: '2025-03-01T10:00:00.000Z',
  providerId,
  workerId,
  actor: 'api',
  correlationId: `corr-${counter}`,
  previous: snapshot,
  current: { ...snapshot, maxLifetime, ttlAfterCompletion: null },
  changed: ['maxLifetime', 'ttlAfterCompletion'],
});

describe('PostgresEventStore.lastPolicyChanges against the real PostgreSQL', () => {
  let t: TestEventBus;

  beforeAll(async () => {
    t = await createTestEventBus('policy_changes');
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('gives each worker its last policy change for the provider, whatever came after it', async () => {
    const first = policyChanged('w-c1', 'p-c', 900_000);
    const second = policyChanged('w-c1', 'p-c', 1_200_000);
    const later: LifecycleEvent = {
      eventId: nextId(),
      type: 'WorkerEphemeralBusy',
      occurredAt: '2025-03-01T10:01:00.000Z',
      providerId: 'p-c',
      workerId: 'w-c1',
      lastActivity: { at: '2025-03-01T10:01:00.000Z', by: 'api' },
    };
    const other = policyChanged('w-c2', 'p-c', 700_000);
    const foreign = policyChanged('w-c3', 'p-foreign', 800_000);
    (await t.bus.store.appendBatch([first, second, later]))._unsafeUnwrap();
    (await t.bus.store.appendBatch([other, foreign]))._unsafeUnwrap();

    const last = (
      await t.bus.store.lastPolicyChanges('p-c', ['w-c1', 'w-c2', 'w-c3', 'w-none'])
    )._unsafeUnwrap();
    expect(last).toEqual(
      new Map([
        ['w-c1', second],
        ['w-c2', other],
      ]),
    );
    expect((await t.bus.store.lastPolicyChanges('p-c', []))._unsafeUnwrap()).toEqual(new Map());
  });

  it('lets recovery restore a policy changed before the restart', async () => {
    const policy = EphemeralWorkerPolicy.builder()
      .maxLifetime(600_000)
      .ttlAfterCompletion(60_000)
      .idleTimeout(120_000)
      .build()
      ._unsafeUnwrap();
    const h = lifecycleHarness({ policy, providerId: 'p-recovery' });
    const job = await h.create();
    (await h.manager.changePolicy(job.workerId, { maxLifetime: 900_000 }))._unsafeUnwrap();
    (await t.bus.store.appendBatch(h.publisher.events))._unsafeUnwrap();

    const restarted = h.restart({ history: t.bus.store });
    (await restarted.recover())._unsafeUnwrap();
    expect(restarted.getWorker(job.workerId)).toMatchObject({
      state: 'busy',
      policy: { maxLifetime: 900_000, ttlAfterCompletion: 60_000 },
    });
  });
});
