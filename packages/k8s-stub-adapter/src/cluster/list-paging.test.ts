import { ManualClock } from '@hodei/domain/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IJob, IPod, ObjectList } from './cluster-types.js';
import { SimulatedCluster } from './simulated-cluster.js';

const NS = 'default';
const P = 'hodei.provider-id=p';

function job(name: string, provider = 'p'): IJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { 'hodei.provider-id': provider } },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: { 'hodei.provider-id': provider } },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'] }],
        },
      },
    },
  };
}

const names = (objects: readonly (IJob | IPod)[]): string[] =>
  objects.map((o) => o.metadata?.name ?? '');

/** Every page of a pods list, `limit` at a time, calling `between` before each next page. */
function allPodPages(
  cluster: SimulatedCluster,
  limit: number,
  between: (page: number) => void = () => undefined,
  labelSelector = P,
): ObjectList<IPod>[] {
  const pages: ObjectList<IPod>[] = [];
  let token: string | undefined;
  do {
    if (pages.length > 0) between(pages.length);
    const options =
      token === undefined ? { labelSelector, limit } : { labelSelector, limit, continue: token };
    const page = cluster.listPodPage(NS, options)._unsafeUnwrap();
    pages.push(page);
    token = page.metadata.continue;
  } while (token !== undefined);
  return pages;
}

function clusterWithPods(
  count: number,
  seed = 5,
): { clock: ManualClock; cluster: SimulatedCluster } {
  const clock = new ManualClock();
  const cluster = new SimulatedCluster(clock, { seed });
  for (let i = 0; i < count; i++)
    cluster.addForeignPod(NS, {
      name: `p${i}`,
      labels: { 'hodei.provider-id': i % 4 ? 'p' : 'q' },
    });
  return { clock, cluster };
}

describe('SimulatedCluster: lists in pages (limit and continue)', () => {
  it.each([1, 2, 7, 22, 23, 100])('pages of %i give the unpaged list, in order', (limit) => {
    const { cluster } = clusterWithPods(30);
    for (const name of ['p5', 'p6']) cluster.forceRemovePod(NS, name);
    const whole = cluster.listPods(NS, { labelSelector: P })._unsafeUnwrap();
    const pages = allPodPages(cluster, limit);
    expect(pages.flatMap((p) => p.items)).toEqual(whole);
    expect(pages.slice(0, -1).every((p) => p.items.length === limit)).toBe(true);
    expect(pages.at(-1)?.metadata.continue).toBeUndefined();
    expect(new Set(pages.map((p) => p.metadata.resourceVersion)).size).toBe(1);
  });

  it('pages Jobs the same way, and a page without a limit holds every object', () => {
    const clock = new ManualClock();
    const cluster = new SimulatedCluster(clock, { seed: 2 });
    for (let i = 0; i < 5; i++) cluster.createJob(NS, job(`j${i}`))._unsafeUnwrap();
    const first = cluster.listJobPage(NS, { labelSelector: P, limit: 3 })._unsafeUnwrap();
    expect(names(first.items)).toEqual(['j0', 'j1', 'j2']);
    const rest = cluster
      .listJobPage(NS, { labelSelector: P, limit: 3, continue: first.metadata.continue ?? '' })
      ._unsafeUnwrap();
    expect(names(rest.items)).toEqual(['j3', 'j4']);
    expect(rest.metadata).toEqual({ resourceVersion: first.metadata.resourceVersion });
    expect(names(cluster.listJobPage(NS, { labelSelector: P })._unsafeUnwrap().items)).toHaveLength(
      5,
    );
  });

  it('hands out copies: changing a listed object changes nothing stored', () => {
    const { cluster } = clusterWithPods(3);
    const [pod] = cluster.listPodPage(NS, { labelSelector: P, limit: 1 })._unsafeUnwrap().items;
    if (pod?.metadata?.labels === undefined) throw new Error('no pod listed');
    pod.metadata.labels['hodei.provider-id'] = 'changed';
    expect(cluster.peekPod(NS, pod.metadata.name ?? '')?.metadata?.labels).toEqual({
      'hodei.provider-id': 'p',
    });
  });

  it('lists each object that exists throughout exactly once, whatever is created or deleted between pages', () => {
    const step = fc.record({
      create: fc.nat({ max: 4 }),
      deletes: fc.array(fc.nat({ max: 60 }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 40 }),
        fc.integer({ min: 1, max: 9 }),
        fc.array(step, { maxLength: 12 }),
        (count, limit, steps) => {
          const { cluster } = clusterWithPods(count);
          const before = new Set(names(cluster.listPods(NS, { labelSelector: P })._unsafeUnwrap()));
          const deleted = new Set<string>();
          let created = 0;
          const pages = allPodPages(cluster, limit, (page) => {
            const s = steps[page - 1];
            if (s === undefined) return;
            for (let i = 0; i < s.create; i++)
              cluster.addForeignPod(NS, {
                name: `new${created++}`,
                labels: { 'hodei.provider-id': 'p' },
              });
            for (const n of s.deletes)
              if (cluster.forceRemovePod(NS, n < count ? `p${n}` : `new${n - count}`))
                deleted.add(n < count ? `p${n}` : `new${n - count}`);
          });
          const listed = names(pages.flatMap((p) => p.items));
          expect(new Set(listed).size).toBe(listed.length);
          for (const name of before) if (!deleted.has(name)) expect(listed).toContain(name);
          for (const name of listed) expect(before.has(name)).toBe(true);
        },
      ),
      { seed: 42, numRuns: 100 },
    );
  });

  it('shows an object changed between pages as it is now, not as it was', () => {
    const { cluster } = clusterWithPods(4);
    cluster.advance(3_000);
    const pages = allPodPages(cluster, 2, () => {
      cluster.deletePod(NS, 'p3', { gracePeriodSeconds: 30 })._unsafeUnwrap();
    });
    const p3 = pages.flatMap((p) => p.items).find((p) => p.metadata?.name === 'p3');
    expect(p3?.metadata?.deletionTimestamp).toBeDefined();
  });

  it('answers 400 BadRequest to a continue token that is not one', () => {
    const { cluster } = clusterWithPods(4);
    for (const token of ['garbage', Buffer.from('{"v":"x"}').toString('base64url'), '%%%'])
      expect(
        cluster.listPodPage(NS, { limit: 1, continue: token })._unsafeUnwrapErr(),
      ).toMatchObject({
        type: 'KubernetesApiError',
        code: 400,
        reason: 'BadRequest',
      });
  });

  it('answers 400 BadRequest to a token of another resource or namespace', () => {
    const { cluster } = clusterWithPods(4);
    cluster.createJob(NS, job('j0'))._unsafeUnwrap();
    cluster.createJob(NS, job('j1'))._unsafeUnwrap();
    const token = cluster.listJobPage(NS, { limit: 1 })._unsafeUnwrap().metadata.continue ?? '';
    expect(cluster.listPodPage(NS, { limit: 1, continue: token })._unsafeUnwrapErr().code).toBe(
      400,
    );
    expect(
      cluster.listJobPage('kube-system', { limit: 1, continue: token })._unsafeUnwrapErr().code,
    ).toBe(400);
  });

  it('answers 410 Gone (Expired) to a token from before a compaction', () => {
    const { cluster } = clusterWithPods(6);
    const first = cluster.listPodPage(NS, { labelSelector: P, limit: 2 })._unsafeUnwrap();
    cluster.addForeignPod(NS, { labels: { 'hodei.provider-id': 'p' } })._unsafeUnwrap();
    cluster.compact();
    const next = cluster.listPodPage(NS, {
      labelSelector: P,
      limit: 2,
      continue: first.metadata.continue ?? '',
    });
    expect(next._unsafeUnwrapErr()).toMatchObject({ code: 410, reason: 'Expired' });
    // A new list works.
    expect(cluster.listPodPage(NS, { labelSelector: P, limit: 2 }).isOk()).toBe(true);
  });

  it('compacts on tick every compactionIntervalMs of the clock', () => {
    const clock = new ManualClock();
    const cluster = new SimulatedCluster(clock, { seed: 1, compactionIntervalMs: 60_000 });
    for (let i = 0; i < 4; i++) cluster.addForeignPod(NS, { name: `p${i}` })._unsafeUnwrap();
    const token = (): string =>
      cluster.listPodPage(NS, { limit: 1 })._unsafeUnwrap().metadata.continue ?? '';
    const early = token();
    cluster.addForeignPod(NS, { name: 'late' })._unsafeUnwrap();
    cluster.advance(59_000, 1_000);
    expect(cluster.listPodPage(NS, { limit: 1, continue: early }).isOk()).toBe(true);
    cluster.advance(1_000, 1_000);
    expect(cluster.listPodPage(NS, { limit: 1, continue: early })._unsafeUnwrapErr().reason).toBe(
      'Expired',
    );
  });

  it('counts each page as a list call, subject to injected faults', () => {
    const { cluster } = clusterWithPods(5);
    const calls = cluster.calls.list;
    const first = cluster.listPodPage(NS, { limit: 2 })._unsafeUnwrap();
    cluster.failNextCalls(1, 'InternalError', 'list');
    expect(
      cluster.listPodPage(NS, { limit: 2, continue: first.metadata.continue ?? '' }).isErr(),
    ).toBe(true);
    expect(cluster.calls.list).toBe(calls + 2);
  });
});
