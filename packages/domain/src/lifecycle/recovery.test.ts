import { errAsync, ResultAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { asWorkerId, lifecycleHarness } from '../testing/lifecycle-harness.js';
import { RecordedEventHistory } from '../testing/recorded-event-history.js';

const s = (seconds: number) => seconds * 1000;

const shortPolicy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .ttlAfterCompletion(s(60))
  .idleTimeout(s(120))
  .gracefulTerminationTimeout(s(10))
  .startupTimeout(s(30))
  .build()
  ._unsafeUnwrap();

describe('recovery of changes made at run time', () => {
  it('restores a changed policy, so the extended deadline holds after a restart', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create();
    await h.advance(s(100));
    await h.manager.changePolicy(job.workerId, { maxLifetime: s(900), idleTimeout: s(200) });

    const restarted = h.restart({ history: new RecordedEventHistory(h.publisher) });
    (await restarted.recover())._unsafeUnwrap();
    expect(restarted.getWorker(job.workerId)?.policy).toMatchObject({
      maxLifetime: s(900),
      idleTimeout: s(200),
      ttlAfterCompletion: s(60),
    });

    await h.advance(s(500)); // the create-time deadline
    expect((await restarted.runGcCycle())._unsafeUnwrap().lifetimeExceeded).toBe(0);
    await h.advance(s(300)); // the changed one
    expect((await restarted.runGcCycle())._unsafeUnwrap().lifetimeExceeded).toBe(1);
  });

  it('ignores a policy change from an earlier life of the same worker id', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const id = asWorkerId('reused');
    const first = await h.create({ workerId: id, command: ['sh', '-c', 'sleep 5; exit 0'] });
    await h.manager.changePolicy(id, { maxLifetime: s(900) });
    await h.advance(s(5));
    await h.advance(s(60));
    await h.manager.runGcCycle(); // retention over: removed and untracked
    expect(h.provider.has(first.resourceId)).toBe(false);
    expect(h.manager.getWorker(id)).toBeUndefined();

    await h.advance(s(1));
    await h.create({ workerId: id });
    const restarted = h.restart({ history: new RecordedEventHistory(h.publisher) });
    (await restarted.recover())._unsafeUnwrap();
    expect(restarted.getWorker(id)?.policy.maxLifetime).toBe(s(600));
    expect(restarted.getWorker(id)?.policy).toBe(restarted.policy);
  });

  it('keeps the create-time policy when the history has no policy changes to give', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create();
    await h.manager.changePolicy(job.workerId, { maxLifetime: s(900) });
    const recorded = new RecordedEventHistory(h.publisher);
    // An older implementer of the port, without lastPolicyChanges.
    const older = h.restart({
      history: { lastStateEvents: (p, ids) => recorded.lastStateEvents(p, ids) },
    });
    (await older.recover())._unsafeUnwrap();
    expect(older.getWorker(job.workerId)?.policy.maxLifetime).toBe(s(600));
    // One whose policy changes cannot be read: the state still comes from the history.
    const failing = h.restart({
      history: {
        lastStateEvents: (p, ids) => recorded.lastStateEvents(p, ids),
        lastPolicyChanges: () => errAsync({ type: 'EventStoreUnavailable', message: 'down' }),
      },
    });
    (await failing.recover())._unsafeUnwrap();
    expect(failing.getWorker(job.workerId)).toMatchObject({ state: 'busy' });
    expect(failing.getWorker(job.workerId)?.policy.maxLifetime).toBe(s(600));
  });

  it('restores the last activity and who gave it from the last state event', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    await h.advance(s(40));
    await h.manager.recordActivity(agent.workerId, 'dispatcher');
    const heartbeatAt = h.clock.now();
    await h.advance(s(10));
    await h.manager.markWorkerBusy(agent.workerId, { actor: 'api' });
    const busyAt = h.clock.now();
    await h.advance(s(10));
    await h.manager.startTermination(agent.workerId, 'ManualTermination');
    expect(heartbeatAt).toBeLessThan(busyAt);

    const restarted = h.restart({ history: new RecordedEventHistory(h.publisher) });
    (await restarted.recover())._unsafeUnwrap();
    expect(restarted.getWorker(agent.workerId)).toMatchObject({
      state: 'terminating',
      lastActivityAt: busyAt,
      lastActivityBy: 'api',
    });
  });

  it('starts a running ready agent’s idle clock at the recovery: heartbeats leave no event', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    // Kept alive by heartbeats for 400 s, past its 120 s idle timeout.
    for (let i = 0; i < 4; i++) {
      await h.advance(s(100));
      (await h.manager.recordActivity(agent.workerId, 'dispatcher'))._unsafeUnwrap();
    }
    const restarted = h.restart({ history: new RecordedEventHistory(h.publisher) });
    (await restarted.recover())._unsafeUnwrap();
    const recoveredAt = h.clock.now();
    expect(restarted.getWorker(agent.workerId)).toMatchObject({
      state: 'ready',
      lastActivityAt: recoveredAt,
      lastActivityBy: 'recovery',
    });
    expect((await restarted.runGcCycle())._unsafeUnwrap().idleTimedOut).toBe(0);
    // At most one more idle timeout without activity.
    await h.advance(s(119));
    expect((await restarted.runGcCycle())._unsafeUnwrap().idleTimedOut).toBe(0);
    await h.advance(s(1));
    expect((await restarted.runGcCycle())._unsafeUnwrap().idleTimedOut).toBe(1);
  });

  it('keeps a recorded activity later than the recovery time', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent', command: ['sleep', 'infinity'] });
    await h.manager.markWorkerBusy(agent.workerId);
    await h.advance(s(30));
    (await h.manager.markWorkerReady(agent.workerId, { actor: 'api' }))._unsafeUnwrap();
    const readyAt = h.clock.now();
    // A clock that went back between the runs: the history's activity is the later one.
    h.clock.set(readyAt - s(10));
    const restarted = h.restart({ history: new RecordedEventHistory(h.publisher) });
    (await restarted.recover())._unsafeUnwrap();
    expect(restarted.getWorker(agent.workerId)).toMatchObject({
      state: 'ready',
      lastActivityAt: readyAt,
      lastActivityBy: 'api',
    });
  });

  it('recovers from the labels when a history call rejects instead of returning an error', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create();
    const agent = await h.create({ mode: 'agent' });
    await h.manager.markWorkerBusy(agent.workerId);
    const recorded = new RecordedEventHistory(h.publisher);
    const rejecting = <T>(): ResultAsync<T, never> =>
      new ResultAsync(Promise.reject(new Error('connection reset')));
    for (const history of [
      { lastStateEvents: rejecting, lastPolicyChanges: rejecting },
      {
        lastStateEvents: (p: string, ids: readonly string[]) => recorded.lastStateEvents(p, ids),
        lastPolicyChanges: rejecting,
      },
    ]) {
      const restarted = h.restart({ history });
      const report = await restarted.recover();
      expect(report._unsafeUnwrap()).toMatchObject({ recovered: 2 });
      expect(restarted.getWorker(job.workerId)?.state).toBe('busy');
    }
  });
});
