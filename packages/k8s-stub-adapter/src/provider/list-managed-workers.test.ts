import {
  kubernetesProfile,
  type ManagedResource,
  type ProviderId,
  type WorkerId,
  type WorkerSpec,
} from '@hodei/domain';
import { ManualClock } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { simulatedKubernetes } from '../testing/index.js';

const PROVIDER = 'k8s-pages' as ProviderId;

async function setup(workers: number, listPageSize: number) {
  const clock = new ManualClock();
  const sim = simulatedKubernetes({
    clock,
    providerId: PROVIDER,
    seed: 9,
    startLatencyMs: { min: 1_000, max: 1_000 },
    provider: { listPageSize },
  });
  let n = 0;
  const spec = (): WorkerSpec => ({
    workerId: `w-${++n}` as WorkerId,
    mode: 'agent',
    image: 'hodei/worker:0.1.0',
    command: ['sleep', 'infinity'],
    policy: kubernetesProfile,
  });
  const create = async (): Promise<void> => {
    (await sim.provider.createWorker(spec()))._unsafeUnwrap();
  };
  for (let i = 0; i < workers; i++) await create();
  sim.advance(2_000);
  // One bare pod of ours (an orphan), listed after the Jobs.
  sim.cluster
    .addForeignPod('default', {
      name: 'stray',
      labels: { 'hodei.managed': 'true', 'hodei.provider-id': PROVIDER },
    })
    ._unsafeUnwrap();
  return { ...sim, clock, create };
}

const ids = (listing: readonly ManagedResource[]): string[] => listing.map((r) => r.resourceId);

/** Runs `fn` at each of the next `turns` turns of the event loop (setImmediate). */
function atEachTurn(turns: number, fn: (turn: number) => void): void {
  let turn = 0;
  const next = (): void => {
    fn(++turn);
    if (turn < turns) setImmediate(next);
  };
  setImmediate(next);
}

describe('KubernetesStubWorkerProvider.listManagedWorkers in pages', () => {
  it('lists in pages what it lists in one', async () => {
    const paged = await setup(11, 3);
    const whole = await setup(11, 500);
    const a = (await paged.provider.listManagedWorkers())._unsafeUnwrap();
    const b = (await whole.provider.listManagedWorkers())._unsafeUnwrap();
    expect(a).toEqual(b);
    expect(ids(a)).toHaveLength(12);
    // 4 pages of Jobs, 4 of pods (11 worker pods and the stray one), against 1 and 1.
    expect(paged.cluster.calls.list).toBe(8);
    expect(whole.cluster.calls.list).toBe(2);
  });

  it('gives the event loop a turn between pages, on a clock that stands still', async () => {
    const k = await setup(6, 2);
    const before = k.clock.now();
    let turns = 0;
    const listing = k.provider.listManagedWorkers();
    atEachTurn(3, () => (turns += 1));
    const result = await listing;
    expect(result._unsafeUnwrap()).toHaveLength(7);
    expect(turns).toBeGreaterThan(0);
    expect(k.clock.now()).toBe(before);
  });

  it('lists a list of one page at once, without waiting for a turn', async () => {
    const k = await setup(4, 500);
    const calls = k.cluster.calls.list;
    const listing = k.provider.listManagedWorkers();
    expect(k.cluster.calls.list).toBe(calls + 2);
    expect((await listing)._unsafeUnwrap()).toHaveLength(5);
  });

  it('lists every worker that exists throughout while workers come and go between pages', async () => {
    const k = await setup(10, 2);
    const listing = k.provider.listManagedWorkers();
    atEachTurn(12, (turn) => {
      void k.create();
      k.advance(100);
      if (turn === 2) k.cluster.forceRemovePod('default', 'stray');
    });
    const listed = ids((await listing)._unsafeUnwrap());
    expect(new Set(listed).size).toBe(listed.length);
    for (let i = 1; i <= 10; i++) expect(listed).toContain(`hodei-worker-w-${i}`);
  });

  it('starts the list over when its continue token expires mid-way', async () => {
    const k = await setup(6, 2);
    const calls = k.cluster.calls.list;
    const listing = k.provider.listManagedWorkers();
    atEachTurn(1, () => {
      k.cluster.addForeignPod('default', { name: 'noise' })._unsafeUnwrap();
      k.cluster.compact();
    });
    const listed = ids((await listing)._unsafeUnwrap());
    // Two pages of Jobs, a third answered 410, then 3 pages of Jobs and 4 of pods.
    expect(k.cluster.calls.list - calls).toBe(2 + 1 + 3 + 4);
    expect(listed).toEqual(ids((await k.provider.listManagedWorkers())._unsafeUnwrap()));
    expect(listed).toHaveLength(7);
  });

  it('fails as the port says when a later page fails', async () => {
    const k = await setup(6, 2);
    const listing = k.provider.listManagedWorkers();
    k.cluster.failNextCalls(1, 'ServiceUnavailable', 'list');
    expect((await listing)._unsafeUnwrapErr()).toMatchObject({
      type: 'ProviderUnavailable',
      retryable: true,
    });
  });
});
