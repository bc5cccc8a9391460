import { ManualClock } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import type { IJob } from './cluster-types.js';
import { matchesSelector, parseLabelSelector } from './label-selector.js';
import { SimulatedCluster } from './simulated-cluster.js';

const NS = 'default';

function job(name: string, provider: string): IJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { 'hodei.provider-id': provider, app: name.length % 2 ? 'a' : 'b' } },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels: { 'hodei.provider-id': provider } },
        spec: {
          restartPolicy: 'Never',
          securityContext: { runAsUser: 1000 },
          containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'] }],
        },
      },
    },
  };
}

function busyCluster(): SimulatedCluster {
  const clock = new ManualClock();
  const cluster = new SimulatedCluster(clock, { seed: 3 });
  for (let i = 0; i < 30; i++)
    cluster.createJob(NS, job(`j${i}`, i % 3 ? 'p' : 'q'))._unsafeUnwrap();
  clock.advance(2_000);
  cluster.tick();
  for (const name of ['j3', 'j4', 'j10']) cluster.deleteJob(NS, name)._unsafeUnwrap();
  // The same names again: they now come last, as in the API server's store.
  for (const name of ['j4', 'j3']) cluster.createJob(NS, job(name, 'p'))._unsafeUnwrap();
  cluster.addForeignPod(NS, { labels: { 'hodei.provider-id': 'p' } })._unsafeUnwrap();
  clock.advance(2_000);
  cluster.tick();
  return cluster;
}

describe('SimulatedCluster: lists through the label indexes', () => {
  const selectors = [
    'hodei.provider-id=p',
    'hodei.provider-id=q,app=a',
    'hodei.provider-id=none',
    'hodei.provider-id in (p,q)',
    'app=b',
    '',
  ];

  it.each(selectors)('lists what a filter over every object finds, in the same order: %j', (s) => {
    const cluster = busyCluster();
    const selector = parseLabelSelector(s)._unsafeUnwrap();
    const keep = (o: { metadata?: { labels?: Record<string, string> } }): boolean =>
      matchesSelector(o.metadata?.labels, selector);
    expect(cluster.listJobs(NS, { labelSelector: s })._unsafeUnwrap()).toEqual(
      cluster.allJobs(NS).filter(keep),
    );
    expect(cluster.listPods(NS, { labelSelector: s })._unsafeUnwrap()).toEqual(
      cluster.allPods(NS).filter(keep),
    );
  });

  it("lists a Job's pods by its controller-uid label, and none of a removed Job", () => {
    const cluster = busyCluster();
    const uid = cluster.peekJob(NS, 'j5')?.metadata?.uid ?? '';
    const pods = cluster
      .listPods(NS, { labelSelector: `batch.kubernetes.io/controller-uid=${uid}` })
      ._unsafeUnwrap();
    expect(pods.map((p) => p.metadata?.ownerReferences?.[0]?.name)).toEqual(['j5']);
    cluster.deleteJob(NS, 'j5', { propagationPolicy: 'Orphan' })._unsafeUnwrap();
    expect(
      cluster
        .listJobs(NS, { labelSelector: 'hodei.provider-id=p' })
        ._unsafeUnwrap()
        .map((j) => j.metadata?.name),
    ).not.toContain('j5');
  });

  it('gives copies: changing what it returned changes no stored object, shared parts included', () => {
    const cluster = busyCluster();
    const [pod] = cluster.listPods(NS, { labelSelector: 'hodei.provider-id=q' })._unsafeUnwrap();
    const owner = pod?.metadata?.ownerReferences?.[0]?.name ?? '';
    const container = pod?.spec?.containers[0];
    if (container === undefined || pod?.spec?.securityContext === undefined)
      throw new Error('no pod');
    container.image = 'changed';
    pod.spec.securityContext.runAsUser = 0;
    const stored = cluster.peekJob(NS, owner)?.spec?.template.spec;
    expect(stored?.containers[0]?.image).toBe('busybox');
    expect(stored?.securityContext).toEqual({ runAsUser: 1000 });
    const again = cluster.peekPod(NS, pod.metadata?.name ?? '');
    expect(again?.spec?.containers[0]?.image).toBe('busybox');
    expect(cluster.peekJob(NS, 'j0')?.spec?.template.spec?.securityContext).toEqual({
      runAsUser: 1000,
    });
  });
});
