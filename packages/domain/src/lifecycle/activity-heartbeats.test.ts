import { err } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { lifecycleHarness } from '../testing/lifecycle-harness.js';

const s = (seconds: number) => seconds * 1000;
const iso = (ms: number) => new Date(ms).toISOString();

const shortPolicy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .ttlAfterCompletion(s(60))
  .idleTimeout(s(120))
  .gracefulTerminationTimeout(s(10))
  .startupTimeout(s(30))
  .build()
  ._unsafeUnwrap();

describe('LifecycleManager.recordActivity', () => {
  it('pushes the idle termination of a ready agent later', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    await h.advance(s(100));
    const worker = (await h.manager.recordActivity(agent.workerId, 'dispatcher'))._unsafeUnwrap();
    expect(worker).toMatchObject({
      state: 'ready',
      lastActivityAt: h.clock.now(),
      lastActivityBy: 'dispatcher',
    });
    const heartbeatAt = h.clock.now();

    await h.advance(s(20)); // 120 s after creation: idle by the old clock
    expect((await h.manager.runGcCycle())._unsafeUnwrap().idleTimedOut).toBe(0);
    await h.advance(s(99));
    expect((await h.manager.runGcCycle())._unsafeUnwrap().idleTimedOut).toBe(0);
    expect(h.manager.getWorker(agent.workerId)?.state).toBe('ready');

    await h.advance(s(1)); // 120 s after the heartbeat
    expect((await h.manager.runGcCycle())._unsafeUnwrap().idleTimedOut).toBe(1);
    expect(h.publisher.ofType('WorkerEphemeralIdle')[0]?.idleSince).toBe(iso(heartbeatAt));
  });

  it('emits no event per heartbeat', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    const before = h.publisher.events.length;
    for (let i = 0; i < 5; i++) {
      await h.advance(s(10));
      (await h.manager.recordActivity(agent.workerId, `beat-${i}`))._unsafeUnwrap();
    }
    expect(h.publisher.events.length).toBe(before);
  });

  it('shows the heartbeat in the next state event as lastActivity', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    await h.advance(s(50));
    await h.manager.recordActivity(agent.workerId, 'dispatcher-7');
    const heartbeatAt = h.clock.now();
    await h.advance(s(10));
    await h.manager.startTermination(agent.workerId, 'ManualTermination', { actor: 'api' });
    expect(h.publisher.ofType('WorkerEphemeralTerminating')).toMatchObject([
      { workerId: agent.workerId, lastActivity: { at: iso(heartbeatAt), by: 'dispatcher-7' } },
    ]);
  });

  it('records activity of a busy job and of a creating worker too', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create();
    const starting = await h.create({ mode: 'agent', readiness: 'external' });
    await h.advance(s(5));
    for (const id of [job.workerId, starting.workerId]) {
      expect((await h.manager.recordActivity(id, 'probe'))._unsafeUnwrap()).toMatchObject({
        lastActivityAt: h.clock.now(),
        lastActivityBy: 'probe',
      });
    }
  });

  it('refuses a heartbeat on a worker that is no longer live', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const done = await h.create({ command: ['sh', '-c', 'sleep 5; exit 0'] });
    const stopping = await h.create({ mode: 'agent' });
    await h.advance(s(5));
    await h.manager.startTermination(stopping.workerId, 'ManualTermination');
    for (const [id, state] of [
      [done.workerId, 'terminated'],
      [stopping.workerId, 'terminating'],
    ] as const) {
      const before = h.manager.getWorker(id);
      expect(await h.manager.recordActivity(id, 'late')).toEqual(
        err({ type: 'WorkerNotLive', workerId: id, state, message: expect.any(String) as string }),
      );
      expect(h.manager.getWorker(id)).toBe(before);
    }
    const unknown = await h.manager.recordActivity('nobody', 'late');
    expect(unknown.isErr() && unknown.error.type).toBe('WorkerNotFound');
  });

  it('credits the creation to the actor that asked for it', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const handle = (
      await h.managed.createWorker(
        {
          workerId: h.ids.workerId(),
          mode: 'agent',
          readiness: 'external',
          image: 'hodei/worker:test',
          command: ['sleep', 'infinity'],
          policy: shortPolicy,
        },
        { actor: 'cli' },
      )
    )._unsafeUnwrap();
    expect(h.manager.getWorker(handle.workerId)).toMatchObject({
      state: 'creating',
      lastActivityBy: 'cli',
    });
  });
});
