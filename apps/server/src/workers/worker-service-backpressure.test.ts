import type { PublishError } from '@hodei/domain';
import { lifecycleHarness, type LifecycleHarness } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { harnessService } from './harness-service.testing.js';
import type { WorkerService } from './worker-service.js';

/** A publisher gauge the test turns on and off. */
class SwitchableGauge {
  on = false;
  backpressure(): PublishError | null {
    return this.on
      ? { type: 'PublisherBackpressure', message: 'the spool is full', retryable: true }
      : null;
  }
}

function setup(): { h: LifecycleHarness; service: WorkerService; gauge: SwitchableGauge } {
  const h = lifecycleHarness({ providerId: 'fake' });
  const gauge = new SwitchableGauge();
  const service = harnessService(h, gauge);
  return { h, service, gauge };
}

const ctx = { actor: 'api' } as const;

describe('WorkerService under publisher backpressure', () => {
  it('refuses every API-initiated change before anything changes, and accepts a heartbeat', async () => {
    const { h, service, gauge } = setup();
    const made = await service.create(
      { id: 'agent-1', mode: 'agent', command: ['sleep', 'infinity'] },
      ctx,
    );
    expect(made.isOk()).toBe(true);
    await h.manager.whenIdle();
    const before = h.manager.getWorker('agent-1');
    const resources = h.provider.resourceIds();
    const events = h.publisher.events.length;
    gauge.on = true;

    const refused = [
      await service.create({ id: 'agent-2', mode: 'agent' }, ctx),
      await service.mark('agent-1', 'busy', ctx),
      await service.mark('agent-1', 'ready', ctx),
      await service.changePolicy('agent-1', { extendLifetimeBySeconds: 60 }, ctx),
      await service.destroy('agent-1', false, ctx),
      await service.destroy('agent-1', true, ctx),
    ];
    for (const r of refused) {
      expect(r.isErr() && r.error.type).toBe('PublisherBackpressure');
    }
    await service.removeAll(0);
    await service.drain();
    await h.manager.whenIdle();

    expect(h.manager.getWorker('agent-1')).toEqual(before);
    expect(h.manager.getWorker('agent-2')).toBeUndefined();
    expect(h.provider.resourceIds()).toEqual(resources);
    expect(h.publisher.events.length).toBe(events);

    // No event: the idle clock may restart (refusing it would let the idle rule stop it).
    const beat = await service.heartbeat('agent-1', 'dispatcher', ctx);
    expect(beat.isOk()).toBe(true);
    expect(h.publisher.events.length).toBe(events);

    gauge.on = false;
    expect((await service.mark('agent-1', 'busy', ctx)).isOk()).toBe(true);
  });

  it('answers a repeat of an existing worker during backpressure: it changes nothing', async () => {
    const { service, gauge } = setup();
    const request = { id: 'job-1', mode: 'job' as const, command: ['sleep', 'infinity'] };
    expect((await service.create(request, ctx)).isOk()).toBe(true);
    gauge.on = true;
    const repeat = await service.create(request, ctx);
    expect(repeat.isOk() && repeat.value.created).toBe(false);
  });
});
