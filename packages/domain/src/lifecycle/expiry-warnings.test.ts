import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { lifecycleHarness, type LifecycleHarness } from '../testing/lifecycle-harness.js';

const s = (seconds: number) => seconds * 1000;
const iso = (ms: number) => new Date(ms).toISOString();

/** Lifetime 600 s, idle 120 s, warned 60 s before either. */
const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .ttlAfterCompletion(s(60))
  .idleTimeout(s(120))
  .gracefulTerminationTimeout(s(10))
  .startupTimeout(s(30))
  .expiryWarning(s(60))
  .build()
  ._unsafeUnwrap();

const withPolicy = (change: (b: ReturnType<typeof EphemeralWorkerPolicy.builder>) => unknown) => {
  const b = EphemeralWorkerPolicy.builder(policy);
  change(b);
  return b.build()._unsafeUnwrap();
};

/** Moves the clock to `ms` after `from` and runs a pass; the pass's stats. */
async function gcAt(h: LifecycleHarness, from: number, ms: number) {
  h.clock.advance(from + ms - h.clock.now());
  h.provider.settle();
  await h.manager.whenIdle();
  return (await h.manager.runGcCycle())._unsafeUnwrap();
}

const warnings = (h: LifecycleHarness) => h.publisher.ofType('WorkerEphemeralExpiring');

describe('expiry warnings', () => {
  it('warns once, expiryWarning before the lifetime deadline, not before and not twice', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const job = await h.create();
    expect((await gcAt(h, t0, s(539))).expiryWarnings).toBe(0);
    expect(warnings(h)).toEqual([]);

    const stats = await gcAt(h, t0, s(540));
    expect(stats.expiryWarnings).toBe(1);
    expect(warnings(h)).toMatchObject([
      {
        type: 'WorkerEphemeralExpiring',
        workerId: job.workerId,
        actor: 'gc',
        rule: 'lifetime',
        at: iso(t0 + s(600)),
        occurredAt: iso(t0 + s(540)),
        lastActivity: { at: iso(t0) },
      },
    ]);
    expect(h.manager.getWorker(job.workerId)?.lifetimeWarnedFor).toBe(t0 + s(600));
    // A pass that warned did work: it is recorded even inside the heartbeat interval.
    expect(h.publisher.ofType('GarbageCollectionCompleted').at(-1)).toMatchObject({
      expiryWarnings: 1,
    });

    expect((await gcAt(h, t0, s(541))).expiryWarnings).toBe(0);
    expect((await gcAt(h, t0, s(599))).expiryWarnings).toBe(0);
    const ended = await gcAt(h, t0, s(600));
    expect(ended).toMatchObject({ lifetimeExceeded: 1, expiryWarnings: 0 });
    expect(warnings(h)).toHaveLength(1);
  });

  it('warns again once an extension moves the lifetime deadline', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const job = await h.create();
    await gcAt(h, t0, s(540));
    expect(warnings(h)).toHaveLength(1);

    const changed = await h.manager.changePolicy(job.workerId, { maxLifetime: s(1200) });
    expect(changed.isOk()).toBe(true);
    expect((await gcAt(h, t0, s(600))).lifetimeExceeded).toBe(0);
    expect((await gcAt(h, t0, s(1139))).expiryWarnings).toBe(0);
    expect(warnings(h)).toHaveLength(1);
    expect((await gcAt(h, t0, s(1140))).expiryWarnings).toBe(1);
    expect(warnings(h).map((e) => e.at)).toEqual([iso(t0 + s(600)), iso(t0 + s(1200))]);
    expect((await gcAt(h, t0, s(1150))).expiryWarnings).toBe(0);
    expect(warnings(h)).toHaveLength(2);
  });

  it('warns at once when an extension leaves the new deadline closer than the warning', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const job = await h.create();
    await gcAt(h, t0, s(560));
    expect(warnings(h)).toHaveLength(1);
    (await h.manager.changePolicy(job.workerId, { maxLifetime: s(610) }))._unsafeUnwrap();
    expect((await gcAt(h, t0, s(560))).expiryWarnings).toBe(1);
    expect(warnings(h).at(-1)).toMatchObject({ rule: 'lifetime', at: iso(t0 + s(610)) });
  });

  it('emits no warning when expiryWarning is 0', async () => {
    const h = lifecycleHarness({ policy: withPolicy((b) => b.expiryWarning(0)) });
    const t0 = h.clock.now();
    await h.create();
    await h.create({ mode: 'agent' });
    for (const at of [s(60), s(119), s(540), s(599)]) {
      expect((await gcAt(h, t0, at)).expiryWarnings).toBe(0);
    }
    expect((await gcAt(h, t0, s(600))).lifetimeExceeded).toBe(1);
    expect(warnings(h)).toEqual([]);
  });

  it('terminates without a warning a worker whose deadline passed before any pass saw it', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    await h.create();
    expect(await gcAt(h, t0, s(600))).toMatchObject({ lifetimeExceeded: 1, expiryWarnings: 0 });
    expect(warnings(h)).toEqual([]);
  });

  it('gives no warning as long as the lifetime itself or longer: it would come at creation', async () => {
    for (const lifetime of [s(60), s(30)]) {
      const short = withPolicy((b) =>
        b.maxLifetime(lifetime).idleTimeout(s(20)).startupTimeout(s(10)),
      );
      const h = lifecycleHarness({ policy: short });
      const t0 = h.clock.now();
      await h.create();
      expect((await gcAt(h, t0, 0)).expiryWarnings).toBe(0);
      expect((await gcAt(h, t0, lifetime - 1)).expiryWarnings).toBe(0);
      expect((await gcAt(h, t0, lifetime)).lifetimeExceeded).toBe(1);
      expect(warnings(h)).toEqual([]);
    }
  });

  it('gives a heartbeat-kept agent no idle warning when the warning is as long as the idle timeout', async () => {
    for (const idle of [s(60), s(30)]) {
      const h = lifecycleHarness({ policy: withPolicy((b) => b.idleTimeout(idle)) });
      const t0 = h.clock.now();
      const agent = await h.create({ mode: 'agent' });
      for (let at = s(10); at <= s(100); at += s(10)) {
        await gcAt(h, t0, at);
        (await h.manager.recordActivity(agent.workerId, 'dispatcher'))._unsafeUnwrap();
        expect((await gcAt(h, t0, at)).expiryWarnings).toBe(0);
      }
      expect(warnings(h)).toEqual([]);
    }
  });

  it('warns of a lifetime deadline once, however often a ready agent’s idle deadline comes and goes', async () => {
    const h = lifecycleHarness({ policy: withPolicy((b) => b.idleTimeout(s(30))) });
    const t0 = h.clock.now();
    const agent = await h.create({ mode: 'agent' });
    (await h.manager.markWorkerBusy(agent.workerId))._unsafeUnwrap();
    expect((await gcAt(h, t0, s(545))).expiryWarnings).toBe(1);
    (await h.manager.markWorkerReady(agent.workerId))._unsafeUnwrap();
    await gcAt(h, t0, s(546));
    (await h.manager.markWorkerBusy(agent.workerId))._unsafeUnwrap();
    await gcAt(h, t0, s(547));
    expect(warnings(h)).toMatchObject([{ rule: 'lifetime', at: iso(t0 + s(600)) }]);
    expect(h.manager.getWorker(agent.workerId)).toMatchObject({
      lifetimeWarnedFor: t0 + s(600),
      idleWarnedFor: null,
    });
  });

  it('keeps a warning the publisher refused for the next pass, counted as an error', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const job = await h.create();
    h.publisher.failWith();
    const refused = await gcAt(h, t0, s(540));
    expect(refused).toMatchObject({ expiryWarnings: 0, errors: 1 });
    expect(h.manager.getWorker(job.workerId)?.lifetimeWarnedFor).toBeNull();
    h.publisher.recover();
    expect((await gcAt(h, t0, s(541))).expiryWarnings).toBe(1);
    expect(warnings(h)).toMatchObject([{ rule: 'lifetime', at: iso(t0 + s(600)) }]);
    expect(h.manager.getWorker(job.workerId)?.lifetimeWarnedFor).toBe(t0 + s(600));
  });

  it('warns a ready agent before its idle deadline, and again after busy then ready moves it', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const agent = await h.create({ mode: 'agent' });
    expect(h.manager.getWorker(agent.workerId)?.state).toBe('ready');
    expect((await gcAt(h, t0, s(59))).expiryWarnings).toBe(0);
    expect((await gcAt(h, t0, s(60))).expiryWarnings).toBe(1);
    expect(warnings(h)).toMatchObject([{ rule: 'idle', at: iso(t0 + s(120)) }]);
    expect((await gcAt(h, t0, s(70))).expiryWarnings).toBe(0);

    await gcAt(h, t0, s(80));
    await h.manager.markWorkerBusy(agent.workerId);
    await gcAt(h, t0, s(90));
    await h.manager.markWorkerReady(agent.workerId, { actor: 'api' });
    // Idle again from 90 s: the deadline is 210 s, warned at 150 s.
    expect((await gcAt(h, t0, s(149))).expiryWarnings).toBe(0);
    expect((await gcAt(h, t0, s(150))).expiryWarnings).toBe(1);
    expect(warnings(h).at(-1)).toMatchObject({
      rule: 'idle',
      at: iso(t0 + s(210)),
      lastActivity: { at: iso(t0 + s(90)), by: 'api' },
    });
    expect((await gcAt(h, t0, s(210))).idleTimedOut).toBe(1);
    expect(warnings(h)).toHaveLength(2);
  });

  it('warns again after an activity heartbeat moves the idle deadline', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const agent = await h.create({ mode: 'agent' });
    await gcAt(h, t0, s(60));
    expect(warnings(h)).toHaveLength(1);
    await gcAt(h, t0, s(100));
    (await h.manager.recordActivity(agent.workerId, 'dispatcher'))._unsafeUnwrap();
    expect((await gcAt(h, t0, s(120))).idleTimedOut).toBe(0);
    expect((await gcAt(h, t0, s(159))).expiryWarnings).toBe(0);
    expect((await gcAt(h, t0, s(160))).expiryWarnings).toBe(1);
    expect(warnings(h).at(-1)).toMatchObject({
      rule: 'idle',
      at: iso(t0 + s(220)),
      lastActivity: { at: iso(t0 + s(100)), by: 'dispatcher' },
    });
  });

  it('gives a busy agent no idle warning, only its lifetime one', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const agent = await h.create({ mode: 'agent' });
    await h.manager.markWorkerBusy(agent.workerId);
    for (const at of [s(60), s(120), s(300), s(539)]) {
      expect((await gcAt(h, t0, at)).expiryWarnings).toBe(0);
    }
    expect((await gcAt(h, t0, s(540))).expiryWarnings).toBe(1);
    expect(warnings(h)).toMatchObject([{ rule: 'lifetime', at: iso(t0 + s(600)) }]);
  });

  it('warns of the deadline that comes first when both warnings are due, the other in its turn', async () => {
    // Idle at 120 s, lifetime at 130 s: by 75 s both warnings are due.
    const h = lifecycleHarness({ policy: withPolicy((b) => b.maxLifetime(s(130))) });
    const t0 = h.clock.now();
    const agent = await h.create({ mode: 'agent' });
    expect((await gcAt(h, t0, s(75))).expiryWarnings).toBe(1);
    expect(warnings(h)).toMatchObject([{ rule: 'idle', at: iso(t0 + s(120)) }]);
    // The lifetime deadline cannot act while the idle one comes first.
    expect((await gcAt(h, t0, s(80))).expiryWarnings).toBe(0);
    // Busy: no idle deadline, the lifetime one comes first and is warned of now.
    await h.manager.markWorkerBusy(agent.workerId);
    expect((await gcAt(h, t0, s(85))).expiryWarnings).toBe(1);
    expect(warnings(h).at(-1)).toMatchObject({ rule: 'lifetime', at: iso(t0 + s(130)) });
    expect((await gcAt(h, t0, s(90))).expiryWarnings).toBe(0);
    expect((await gcAt(h, t0, s(130))).lifetimeExceeded).toBe(1);
    expect(warnings(h)).toHaveLength(2);
  });
});

describe('the deadline of the rule on the events the pass causes', () => {
  it('carries the lifetime deadline on a lifetime termination', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const job = await h.create();
    await gcAt(h, t0, s(605));
    expect(h.publisher.ofType('WorkerEphemeralTerminating')).toMatchObject([
      { workerId: job.workerId, reason: 'LifetimeExceeded', deadlineAt: iso(t0 + s(600)) },
    ]);
  });

  it('carries the idle deadline on an idle termination', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const agent = await h.create({ mode: 'agent' });
    await gcAt(h, t0, s(30));
    await h.manager.markWorkerBusy(agent.workerId);
    await h.manager.markWorkerReady(agent.workerId);
    await gcAt(h, t0, s(151));
    expect(h.publisher.ofType('WorkerEphemeralTerminating')).toMatchObject([
      { workerId: agent.workerId, reason: 'IdleTimeout', deadlineAt: iso(t0 + s(150)) },
    ]);
  });

  it('carries the last activity on WorkerEphemeralIdle', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const agent = await h.create({ mode: 'agent' });
    await gcAt(h, t0, s(30));
    (await h.manager.recordActivity(agent.workerId, 'dispatcher'))._unsafeUnwrap();
    await gcAt(h, t0, s(150));
    expect(h.publisher.ofType('WorkerEphemeralIdle')).toMatchObject([
      {
        workerId: agent.workerId,
        idleSince: iso(t0 + s(30)),
        lastActivity: { at: iso(t0 + s(30)), by: 'dispatcher' },
      },
    ]);
  });

  it('carries the startup deadline on a startup failure', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const agent = await h.create({ mode: 'agent', readiness: 'external' });
    await gcAt(h, t0, s(32));
    expect(h.publisher.ofType('WorkerEphemeralFailed')).toMatchObject([
      { workerId: agent.workerId, reason: 'StartupTimeout', deadlineAt: iso(t0 + s(30)) },
    ]);
  });

  it('carries the force-remove deadline on a forced termination', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const job = await h.create();
    h.provider.failNext('stopWorker');
    await gcAt(h, t0, s(600));
    await h.manager.whenStopsSettled();
    expect(h.manager.getWorker(job.workerId)?.state).toBe('terminating');
    // Terminating at 600 s: graceful 10 s plus the 30 s margin.
    expect((await gcAt(h, t0, s(645))).forceTerminated).toBe(1);
    expect(h.publisher.ofType('WorkerEphemeralTerminated')).toMatchObject([
      { workerId: job.workerId, forced: true, deadlineAt: iso(t0 + s(640)) },
    ]);
  });

  it('carries the TTL deadline on a cleanup after the retention', async () => {
    const h = lifecycleHarness({ policy });
    const t0 = h.clock.now();
    const job = await h.create({ command: ['sh', '-c', 'sleep 5; exit 0'] });
    await gcAt(h, t0, s(5));
    expect(h.manager.getWorker(job.workerId)?.state).toBe('terminated');
    expect((await gcAt(h, t0, s(70))).ttlExpired).toBe(1);
    expect(h.publisher.ofType('WorkerEphemeralCleanedUp')).toMatchObject([
      { workerId: job.workerId, cleanupReason: 'TtlExpired', deadlineAt: iso(t0 + s(65)) },
    ]);
  });

  it('carries no deadline on the events of calls the pass did not make', async () => {
    const h = lifecycleHarness({ policy });
    const job = await h.create();
    await h.manager.startTermination(job.workerId, 'ManualTermination');
    const [terminating] = h.publisher.ofType('WorkerEphemeralTerminating');
    expect(terminating).toBeDefined();
    expect(terminating).not.toHaveProperty('deadlineAt');
  });
});
