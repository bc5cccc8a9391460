import { describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../events/lifecycle-event.js';
import { dockerProfile } from '../policy/profiles.js';
import type { WorkerEventHistory } from '../ports/event-store.port.js';
import type { WorkerSpec } from '../ports/worker-provider.port.js';
import {
  LifecycleManagedWorkerProviderBuilder,
  type LifecycleManagedWorkerProvider,
} from '../provider/lifecycle-managed-worker-provider.js';
import { InMemoryWorkerProvider } from '../testing/in-memory-worker-provider.js';
import { asWorkerId } from '../testing/lifecycle-harness.js';
import { ManualClock } from '../testing/manual-clock.js';
import { RecordedEventHistory } from '../testing/recorded-event-history.js';
import { RecordingPublisher } from '../testing/recording-publisher.js';
import { SequentialIdGenerator } from '../testing/sequential-id-generator.js';
import type { ProviderId } from '../worker/ids.js';
import { LifecycleManager } from './lifecycle-manager.js';

/** A life's terminal events (a WorkerLost is followed by its Terminated). */
const TERMINAL = new Set(['WorkerEphemeralTerminated', 'WorkerEphemeralFailed']);

/** Two servers on one provider and one log; neither watches (their passes are driven here). */
function twoServers() {
  const clock = new ManualClock();
  const provider = new InMemoryWorkerProvider('fake' as ProviderId, clock);
  const publisher = new RecordingPublisher();
  const history: WorkerEventHistory = new RecordedEventHistory(publisher);
  const ids = new SequentialIdGenerator();
  const server = () => {
    const manager = new LifecycleManager({
      provider,
      publisher,
      clock,
      ids,
      policy: dockerProfile,
      history,
    });
    const managed: LifecycleManagedWorkerProvider = new LifecycleManagedWorkerProviderBuilder(
      provider,
    )
      .withLifecycleManager(manager)
      .withEventPublisher(publisher)
      .build()
      ._unsafeUnwrap();
    return { manager, managed };
  };
  return { clock, provider, publisher, a: server(), b: server() };
}

const agent = (id: string): WorkerSpec => ({
  workerId: asWorkerId(id),
  mode: 'agent',
  image: 'hodei/worker:test',
  command: ['sleep', 'infinity'],
  policy: dockerProfile,
});

/** Each life's events in log order, keyed by worker id and resource. */
function lives(events: readonly LifecycleEvent[]): Map<string, LifecycleEvent[]> {
  const out = new Map<string, LifecycleEvent[]>();
  for (const e of events) {
    if (!('workerId' in e) || e.resourceId === undefined) continue;
    const key = `${e.workerId}@${e.resourceId}`;
    out.set(key, [...(out.get(key) ?? []), e]);
  }
  return out;
}

describe('a refreshing recovery after this server could not act', () => {
  it('makes tracking the truth again and keeps every life in the log valid', async () => {
    const { clock, provider, publisher, a, b } = twoServers();
    const gone = (await a.managed.createWorker(agent('gone')))._unsafeUnwrap();
    const busy = (await a.managed.createWorker(agent('busy')))._unsafeUnwrap();
    const ended = (await a.managed.createWorker(agent('ended')))._unsafeUnwrap();
    const lost = (await a.managed.createWorker(agent('lost')))._unsafeUnwrap();
    const same = (await a.managed.createWorker(agent('same')))._unsafeUnwrap();
    expect(a.manager.getWorker(busy.workerId)?.state).toBe('ready');

    // A loses the lock; B holds it and acts.
    clock.advance(1000);
    (await b.manager.recover())._unsafeUnwrap();
    (await b.managed.destroyWorker(gone))._unsafeUnwrap();
    (await b.manager.markWorkerBusy(busy.workerId))._unsafeUnwrap();
    provider.exit(ended.resourceId, 3, { notify: false });
    (await b.manager.reconcile())._unsafeUnwrap();
    expect(b.manager.getWorker(ended.workerId)?.state).toBe('terminated');
    const created = (await b.managed.createWorker(agent('created')))._unsafeUnwrap();
    provider.vanish(lost.resourceId); // removed behind both servers' backs, unnoticed
    const beforeRefresh = publisher.events.length;

    // A has the lock again: a start's recovery would leave its stale tracking as it is.
    const report = (await a.manager.recover({ refresh: true }))._unsafeUnwrap();
    expect(report).toMatchObject({ recovered: 1, refreshed: 3, gone: 2 });

    expect(a.manager.getWorker(gone.workerId)).toBeUndefined();
    expect(a.manager.getWorker(busy.workerId)?.state).toBe('busy');
    expect(a.manager.getWorker(ended.workerId)).toMatchObject({ state: 'terminated', exitCode: 3 });
    expect(a.manager.getWorker(created.workerId)?.state).toBe('ready');
    expect(a.manager.getWorker(same.workerId)?.state).toBe('ready');
    expect(a.manager.getWorker(lost.workerId)?.state).toBe('terminated');
    for (const w of b.manager.listWorkers()) {
      if (w.id === lost.workerId) continue; // B has not listed since it vanished
      expect(a.manager.getWorker(w.id)?.state).toBe(w.state);
      expect(a.manager.getWorker(w.id)?.resourceId).toBe(w.resourceId);
    }

    const added = publisher.events.slice(beforeRefresh);
    // Only what changed is recorded: busy's new state, the new worker, the loss.
    expect(added.map((e) => [e.type, 'workerId' in e ? e.workerId : undefined])).toEqual(
      expect.arrayContaining([
        ['WorkerRecovered', busy.workerId],
        ['WorkerRecovered', created.workerId],
        ['WorkerLost', lost.workerId],
      ]),
    );
    expect(added.filter((e) => 'workerId' in e && e.workerId === gone.workerId)).toEqual([]);
    expect(added.filter((e) => 'workerId' in e && e.workerId === same.workerId)).toEqual([]);
    for (const [life, events] of lives(publisher.events)) {
      expect(events[0]?.type, life).toBe('WorkerEphemeralCreated');
      const cleanedAt = events.findIndex((e) => e.type === 'WorkerEphemeralCleanedUp');
      if (cleanedAt >= 0) expect(events.slice(cleanedAt + 1), life).toEqual([]);
      expect(events.filter((e) => TERMINAL.has(e.type)).length, life).toBeLessThanOrEqual(1);
      expect(events.filter((e) => e.type === 'WorkerLost').length, life).toBeLessThanOrEqual(1);
    }
  });

  it('takes an id cleaned up and created again by the other server for the new life', async () => {
    const { publisher, a, b } = twoServers();
    const first = (await a.managed.createWorker(agent('reused')))._unsafeUnwrap();
    (await b.manager.recover())._unsafeUnwrap();
    (await b.managed.destroyWorker(first))._unsafeUnwrap();
    const second = (await b.managed.createWorker(agent('reused')))._unsafeUnwrap();
    const beforeRefresh = publisher.events.length;

    (await a.manager.recover({ refresh: true }))._unsafeUnwrap();
    expect(a.manager.getWorker(second.workerId)?.resourceId).toBe(second.resourceId);
    const added = publisher.events.slice(beforeRefresh);
    expect(added.filter((e) => 'resourceId' in e && e.resourceId === first.resourceId)).toEqual([]);
  });

  it('leaves the tracked workers alone in a start recovery', async () => {
    const { a, b } = twoServers();
    const busy = (await a.managed.createWorker(agent('busy')))._unsafeUnwrap();
    (await b.manager.recover())._unsafeUnwrap();
    (await b.manager.markWorkerBusy(busy.workerId))._unsafeUnwrap();
    (await a.manager.recover())._unsafeUnwrap();
    expect(a.manager.getWorker(busy.workerId)?.state).toBe('ready');
  });
});
