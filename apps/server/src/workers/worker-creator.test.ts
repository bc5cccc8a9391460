import { lifecycleHarness, type LifecycleHarness } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { harnessService } from './harness-service.testing.js';
import type { WorkerService } from './worker-service.js';

function setup(): { h: LifecycleHarness; service: WorkerService } {
  const h = lifecycleHarness({ providerId: 'fake' });
  const service = harnessService(h);
  // As the server wires it: what a cleanup ends, the service is told of.
  h.publisher.events.length = 0;
  const publish = h.publisher.publishBatch.bind(h.publisher);
  h.publisher.publishBatch = (events) => {
    for (const e of events) if (e.type === 'WorkerEphemeralCleanedUp') service.forget(e.workerId);
    return publish(events);
  };
  return { h, service };
}

const ctx = { actor: 'api' } as const;
const job = {
  id: 'job-ttl0',
  mode: 'job' as const,
  command: ['sleep', 'infinity'],
  policy: { ttlAfterCompletionSeconds: 0 },
};

/** A create whose job ends and is cleaned up (TTL 0, a pass) before the create answers. */
async function createCleanedUpBeforeAnswer(h: LifecycleHarness, service: WorkerService) {
  h.provider.holdNext('getWorkerStatus');
  const creating = service.create(job, ctx);
  for (let i = 0; i < 100 && h.provider.held.length === 0; i++) await Promise.resolve();
  expect(h.provider.held.map((c) => c.operation)).toEqual(['getWorkerStatus']);
  const resourceId = h.provider.resourceIds()[0]!;
  h.provider.exit(resourceId, 0);
  await h.manager.whenIdle();
  await h.manager.runGcCycle();
  await h.manager.whenIdle();
  expect(h.manager.getWorker(job.id)).toBeUndefined();
  await h.provider.releaseAll();
  return { created: await creating, resourceId };
}

describe('WorkerService.create of a job that ends at once', () => {
  it('answers with the worker it made although it was cleaned up before the answer', async () => {
    const { h, service } = setup();
    const { created, resourceId } = await createCleanedUpBeforeAnswer(h, service);
    expect(created.isOk()).toBe(true);
    const outcome = created._unsafeUnwrap();
    expect(outcome.created).toBe(true);
    expect(outcome.worker).toMatchObject({
      id: job.id,
      resourceId,
      mode: 'job',
      state: 'terminated',
    });
  });

  it('answers a repeat after the cleanup with the worker it made, without running it again', async () => {
    const { h, service } = setup();
    const { resourceId } = await createCleanedUpBeforeAnswer(h, service);
    const createdEvents = () =>
      h.publisher.events.filter((e) => e.type === 'WorkerEphemeralCreated').length;
    expect(createdEvents()).toBe(1);

    const repeat = await service.create(job, ctx);
    expect(repeat._unsafeUnwrap()).toMatchObject({
      created: false,
      worker: { id: job.id, resourceId, state: 'terminated' },
    });
    expect(h.provider.resourceIds()).toEqual([]);
    expect(createdEvents()).toBe(1);

    // Another request under the id is not a repeat: it runs.
    const other = await service.create({ ...job, command: ['sleep', '1'] }, ctx);
    expect(other._unsafeUnwrap().created).toBe(true);
    expect(createdEvents()).toBe(2);
  });

  it('runs a create again after its worker was destroyed on request', async () => {
    const { h, service } = setup();
    expect((await service.create(job, ctx))._unsafeUnwrap().created).toBe(true);
    await h.manager.whenIdle();
    expect((await service.destroy(job.id, true, ctx)).isOk()).toBe(true);
    const again = await service.create(job, ctx);
    expect(again._unsafeUnwrap().created).toBe(true);
  });
});
