import { ManualClock } from '@hodei/domain/testing';
import { describe, expect, it, vi } from 'vitest';
import type { IJob, IPod, WatchEvent } from './cluster-types.js';
import { SimulatedCluster } from './simulated-cluster.js';

const NS = 'default';
const s = (n: number): number => n * 1_000;

function setup(options: ConstructorParameters<typeof SimulatedCluster>[1] = {}) {
  const clock = new ManualClock();
  const cluster = new SimulatedCluster(clock, {
    seed: 42,
    startLatencyMs: { min: 1_000, max: 1_000 },
    ...options,
  });
  const advance = (ms: number, step = 100): void => {
    for (let left = ms; left > 0; left -= step) {
      clock.advance(Math.min(step, left));
      cluster.tick();
    }
  };
  return { clock, cluster, advance };
}

function job(
  name: string,
  command: string[],
  spec: Partial<NonNullable<IJob['spec']>> = {},
  podSpec: Record<string, unknown> = {},
): IJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: { app: 'test', owner: 'us' } },
    spec: {
      backoffLimit: 0,
      ...spec,
      template: {
        metadata: { labels: { app: 'test', owner: 'us' } },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 30,
          ...podSpec,
          containers: [{ name: 'main', image: 'busybox', command }],
        },
      },
    },
  };
}

const podOf = (cluster: SimulatedCluster, jobName: string): IPod | undefined =>
  cluster.allPods(NS).find((p) => p.metadata?.labels?.['batch.kubernetes.io/job-name'] === jobName);

describe('SimulatedCluster: Jobs and pods', () => {
  it('runs a Job pod Pending → Running → Succeeded after the start latency and the command’s duration', () => {
    const { cluster, advance, clock } = setup();
    const start = clock.now();
    cluster.createJob(NS, job('j1', ['sh', '-c', 'echo hi; sleep 5; exit 0']))._unsafeUnwrap();
    cluster.tick();
    const pod = podOf(cluster, 'j1');
    expect(pod?.status?.phase).toBe('Pending');
    expect(pod?.metadata?.name).toMatch(/^j1-[a-z0-9]{5}$/);
    expect(pod?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Job',
      name: 'j1',
      controller: true,
    });
    expect(pod?.metadata?.labels).toMatchObject({
      app: 'test',
      'batch.kubernetes.io/job-name': 'j1',
    });
    advance(s(1));
    expect(podOf(cluster, 'j1')?.status?.phase).toBe('Running');
    advance(s(5));
    const done = podOf(cluster, 'j1');
    expect(done?.status?.phase).toBe('Succeeded');
    expect(done?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      finishedAt: new Date(start + s(6)).toISOString(),
    });
    const finished = cluster.peekJob(NS, 'j1');
    expect(finished?.status?.conditions?.[0]).toMatchObject({ type: 'Complete', status: 'True' });
    expect(finished?.status?.succeeded).toBe(1);
  });

  it('fails the pod and the Job (backoffLimit 0) when the command exits non-zero', () => {
    const { cluster, advance } = setup();
    cluster.createJob(NS, job('j2', ['sh', '-c', 'exit 3']))._unsafeUnwrap();
    advance(s(2));
    const pod = podOf(cluster, 'j2');
    expect(pod?.status?.phase).toBe('Failed');
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
    expect(cluster.peekJob(NS, 'j2')?.status?.conditions?.[0]).toMatchObject({
      type: 'Failed',
      reason: 'BackoffLimitExceeded',
    });
  });

  it('replays the same history for the same seed, and another for another seed', () => {
    const names = (seed: number): string[] => {
      const { cluster, advance } = setup({ seed, startLatencyMs: { min: 100, max: 5_000 } });
      for (let i = 0; i < 5; i++)
        cluster.createJob(NS, job(`j${i}`, ['sleep', '2']))._unsafeUnwrap();
      advance(s(3));
      return cluster
        .allPods(NS)
        .map((p) => `${p.metadata?.name ?? ''}@${p.spec?.nodeName ?? ''}:${p.status?.phase ?? ''}`);
    };
    expect(names(7)).toEqual(names(7));
    expect(names(7)).not.toEqual(names(8));
  });

  it('fails a pod that runs past activeDeadlineSeconds with reason DeadlineExceeded', () => {
    const { cluster, advance } = setup({ shutdownMs: 500 });
    cluster
      .createJob(NS, job('j3', ['sleep', 'infinity'], {}, { activeDeadlineSeconds: 10 }))
      ._unsafeUnwrap();
    advance(s(10) - 100);
    expect(podOf(cluster, 'j3')?.status?.phase).toBe('Running');
    advance(s(1));
    const pod = podOf(cluster, 'j3');
    expect(pod?.status).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded' });
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(143);
    expect(cluster.peekJob(NS, 'j3')?.status?.conditions?.[0]?.type).toBe('Failed');
  });

  it('lets the TTL controller delete a finished Job, and the garbage collector its pod', () => {
    const { cluster, advance } = setup();
    cluster
      .createJob(NS, job('j4', ['sleep', '1'], { ttlSecondsAfterFinished: 30 }))
      ._unsafeUnwrap();
    advance(s(3));
    expect(cluster.peekJob(NS, 'j4')).toBeDefined();
    advance(s(29));
    expect(cluster.peekJob(NS, 'j4')).toBeDefined();
    advance(s(1));
    expect(cluster.peekJob(NS, 'j4')).toBeUndefined();
    advance(s(1));
    expect(podOf(cluster, 'j4')).toBeUndefined();
  });

  it('honours the grace period on deletion: Terminating, SIGTERM exit, then gone', () => {
    const { cluster, advance } = setup({ shutdownMs: 2_000 });
    cluster.createJob(NS, job('j5', ['sleep', 'infinity']))._unsafeUnwrap();
    advance(s(2));
    const name = podOf(cluster, 'j5')?.metadata?.name ?? '';
    cluster.deletePod(NS, name)._unsafeUnwrap();
    expect(cluster.peekPod(NS, name)?.metadata?.deletionTimestamp).toBeDefined();
    expect(cluster.peekPod(NS, name)?.metadata?.deletionGracePeriodSeconds).toBe(30);
    advance(s(1));
    expect(cluster.peekPod(NS, name)?.status?.phase).toBe('Running');
    advance(s(1));
    expect(cluster.peekPod(NS, name)).toBeUndefined();
  });

  it('kills a container that ignores SIGTERM when the grace period ends (exit 137)', () => {
    const { cluster, advance } = setup();
    const events: WatchEvent[] = [];
    cluster.watch('Pod', { namespace: NS }, (e) => events.push(e));
    cluster.createJob(NS, job('j6', ['sleep', 'infinity']))._unsafeUnwrap();
    advance(s(2));
    const name = podOf(cluster, 'j6')?.metadata?.name ?? '';
    cluster.makePodIgnoreSigterm(NS, name);
    cluster.deletePod(NS, name, { gracePeriodSeconds: 5 })._unsafeUnwrap();
    advance(s(5) - 100);
    expect(cluster.peekPod(NS, name)).toBeDefined();
    advance(s(1));
    expect(cluster.peekPod(NS, name)).toBeUndefined();
    const last = events.filter((e) => e.type === 'MODIFIED').at(-1)?.object as IPod;
    expect(last.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(137);
  });

  it('removes a pod at once when deleted with grace 0 (force)', () => {
    const { cluster, advance } = setup();
    cluster.createJob(NS, job('j7', ['sleep', 'infinity']))._unsafeUnwrap();
    advance(s(2));
    const name = podOf(cluster, 'j7')?.metadata?.name ?? '';
    cluster.deletePod(NS, name, { gracePeriodSeconds: 0 })._unsafeUnwrap();
    expect(cluster.peekPod(NS, name)).toBeUndefined();
  });

  it('deletes a Job with background propagation: the Job at once, its pods afterwards', () => {
    const { cluster, advance } = setup({ shutdownMs: 1_000 });
    cluster.createJob(NS, job('j8', ['sleep', 'infinity']))._unsafeUnwrap();
    advance(s(2));
    const name = podOf(cluster, 'j8')?.metadata?.name ?? '';
    cluster.deleteJob(NS, 'j8', { propagationPolicy: 'Background' })._unsafeUnwrap();
    expect(cluster.peekJob(NS, 'j8')).toBeUndefined();
    expect(cluster.peekPod(NS, name)).toBeDefined();
    cluster.tick();
    expect(cluster.peekPod(NS, name)?.metadata?.deletionTimestamp).toBeDefined();
    advance(s(2));
    expect(cluster.peekPod(NS, name)).toBeUndefined();
  });

  it('deletes a Job with foreground propagation only once its pods are gone', () => {
    const { cluster, advance } = setup({ shutdownMs: 1_000 });
    cluster.createJob(NS, job('j9', ['sleep', 'infinity']))._unsafeUnwrap();
    advance(s(2));
    cluster.deleteJob(NS, 'j9', { propagationPolicy: 'Foreground' })._unsafeUnwrap();
    cluster.tick();
    expect(cluster.peekJob(NS, 'j9')?.metadata?.deletionTimestamp).toBeDefined();
    advance(s(2));
    expect(podOf(cluster, 'j9')).toBeUndefined();
    expect(cluster.peekJob(NS, 'j9')).toBeUndefined();
  });

  it('leaves the pods running when a Job is deleted with orphan propagation', () => {
    const { cluster, advance } = setup();
    cluster.createJob(NS, job('j10', ['sleep', 'infinity']))._unsafeUnwrap();
    advance(s(2));
    cluster.deleteJob(NS, 'j10', { propagationPolicy: 'Orphan' })._unsafeUnwrap();
    advance(s(5));
    const pod = podOf(cluster, 'j10');
    expect(pod?.status?.phase).toBe('Running');
    expect(pod?.metadata?.ownerReferences).toEqual([]);
  });

  it('streams ADDED, MODIFIED and DELETED to watchers whose selector matches', () => {
    const { cluster, advance } = setup();
    const ours: string[] = [];
    const theirs: string[] = [];
    cluster.watch('Job', { namespace: NS, labelSelector: 'owner=us' }, (e) => ours.push(e.type));
    cluster.watch('Job', { namespace: NS, labelSelector: 'owner=them' }, (e) =>
      theirs.push(e.type),
    );
    cluster
      .createJob(NS, job('j11', ['sleep', '1'], { ttlSecondsAfterFinished: 0 }))
      ._unsafeUnwrap();
    advance(s(4));
    expect(ours[0]).toBe('ADDED');
    expect(ours).toContain('MODIFIED');
    expect(ours.at(-1)).toBe('DELETED');
    expect(theirs).toEqual([]);
  });

  it('advances a manual clock in steps, ticking after each, and refuses a clock it cannot move', () => {
    const { cluster, clock } = setup();
    const start = clock.now();
    cluster.createJob(NS, job('adv', ['sleep', '2']))._unsafeUnwrap();
    cluster.advance(s(4), 250);
    expect(clock.now()).toBe(start + s(4));
    expect(podOf(cluster, 'adv')?.status?.phase).toBe('Succeeded');
    const fixed = new SimulatedCluster({ now: () => 0 });
    expect(() => fixed.advance(1)).toThrow(TypeError);
  });

  it('ticks by itself on a timer when run in real time, until stopped', () => {
    vi.useFakeTimers();
    try {
      const { cluster, clock } = setup();
      const ticker = cluster.runInRealTime(100);
      cluster.createJob(NS, job('rt', ['sleep', '1']))._unsafeUnwrap();
      for (let i = 0; i < 30; i++) {
        clock.advance(100);
        vi.advanceTimersByTime(100);
      }
      expect(podOf(cluster, 'rt')?.status?.phase).toBe('Succeeded');
      ticker.stop();
      cluster.createJob(NS, job('rt2', ['sleep', '1']))._unsafeUnwrap();
      clock.advance(5_000);
      vi.advanceTimersByTime(5_000);
      expect(podOf(cluster, 'rt2')).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps serving the API when a watcher throws', () => {
    const { cluster, advance } = setup();
    cluster.watch('Pod', {}, () => {
      throw new Error('a careless watcher');
    });
    expect(cluster.createJob(NS, job('jw', ['sleep', '1'])).isOk()).toBe(true);
    advance(s(3));
    expect(podOf(cluster, 'jw')?.status?.phase).toBe('Succeeded');
  });

  it('keeps simulated logs: the command’s output once the container runs, with tail', () => {
    const { cluster, advance } = setup();
    cluster
      .createJob(NS, job('j12', ['sh', '-c', 'echo one; echo two; echo three; sleep 10']))
      ._unsafeUnwrap();
    cluster.tick();
    const name = podOf(cluster, 'j12')?.metadata?.name ?? '';
    expect(cluster.readPodLog(NS, name)._unsafeUnwrapErr().reason).toBe('BadRequest');
    advance(s(2));
    const log = cluster.readPodLog(NS, name, { tailLines: 2 })._unsafeUnwrap();
    expect(log.lines.map((l) => l.line)).toEqual(['two', 'three']);
    expect(log.finished).toBe(false);
    advance(s(10));
    expect(cluster.readPodLog(NS, name)._unsafeUnwrap().finished).toBe(true);
  });

  it('scopes objects to namespaces and lists by label selector', () => {
    const { cluster } = setup();
    expect(cluster.createJob('nowhere', job('x', ['true']))._unsafeUnwrapErr().reason).toBe(
      'NotFound',
    );
    cluster.createNamespace('team-a')._unsafeUnwrap();
    cluster.createJob('team-a', job('x', ['true']))._unsafeUnwrap();
    cluster
      .createJob(NS, { ...job('y', ['true']), metadata: { name: 'y', labels: { owner: 'them' } } })
      ._unsafeUnwrap();
    expect(
      cluster
        .listJobs('team-a')
        ._unsafeUnwrap()
        .map((j) => j.metadata?.name),
    ).toEqual(['x']);
    expect(cluster.listJobs(NS, { labelSelector: 'owner=us' })._unsafeUnwrap()).toEqual([]);
    expect(
      cluster.listJobs(NS, { labelSelector: 'owner in (them,others)' })._unsafeUnwrap(),
    ).toHaveLength(1);
    expect(cluster.createJob('team-a', job('x', ['true']))._unsafeUnwrapErr().reason).toBe(
      'AlreadyExists',
    );
  });

  it('rejects an invalid Job with 422 Invalid and the schema’s causes', () => {
    const { cluster } = setup();
    const bad = job('bad', ['true']);
    const invalid = { ...bad, spec: { ...bad.spec, backoffLimit: 'none' } } as unknown as IJob;
    const error = cluster.createJob(NS, invalid)._unsafeUnwrapErr();
    expect(error).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(error.causes[0]?.field).toBe('spec.backoffLimit');
    expect(cluster.createJob(NS, job('Not_A_Name', ['true']))._unsafeUnwrapErr().reason).toBe(
      'Invalid',
    );
  });

  it('runs a pod labelled hodei.mode=agent until it is deleted, whatever its command', () => {
    const { cluster, advance } = setup();
    const agent = job('agent', ['sleep', '1']);
    const template = agent.spec?.template.metadata;
    if (template) template.labels = { ...template.labels, 'hodei.mode': 'agent' };
    cluster.createJob(NS, agent)._unsafeUnwrap();
    advance(s(60));
    expect(podOf(cluster, 'agent')?.status?.phase).toBe('Running');
  });
});

describe('SimulatedCluster: fault injection', () => {
  it('turns the pods of a lost node Unknown, then Failed (NodeLost), and never confirms their deletion until forced', () => {
    const { cluster, advance } = setup({ nodes: ['only'], nodeLostFailAfterMs: s(40) });
    cluster.createJob(NS, job('n1', ['sleep', 'infinity']))._unsafeUnwrap();
    advance(s(2));
    cluster.loseNode('only');
    cluster.tick();
    const name = podOf(cluster, 'n1')?.metadata?.name ?? '';
    expect(cluster.peekPod(NS, name)?.status?.phase).toBe('Unknown');
    advance(s(40));
    expect(cluster.peekPod(NS, name)?.status).toMatchObject({
      phase: 'Failed',
      reason: 'NodeLost',
    });
    cluster.deletePod(NS, name, { gracePeriodSeconds: 5 })._unsafeUnwrap();
    advance(s(60));
    expect(cluster.peekPod(NS, name)?.metadata?.deletionTimestamp).toBeDefined();
    cluster.deletePod(NS, name, { gracePeriodSeconds: 0 })._unsafeUnwrap();
    expect(cluster.peekPod(NS, name)).toBeUndefined();
  });

  it('keeps a pod stuck Terminating after its container exited, until a forced deletion', () => {
    const { cluster, advance } = setup();
    cluster.createJob(NS, job('t1', ['sleep', 'infinity']))._unsafeUnwrap();
    advance(s(2));
    const name = podOf(cluster, 't1')?.metadata?.name ?? '';
    cluster.makePodStuckTerminating(NS, name);
    cluster.deletePod(NS, name)._unsafeUnwrap();
    advance(s(120));
    expect(cluster.peekPod(NS, name)?.status?.phase).toBe('Failed');
    expect(cluster.peekPod(NS, name)?.metadata?.deletionTimestamp).toBeDefined();
    cluster.deletePod(NS, name, { gracePeriodSeconds: 0 })._unsafeUnwrap();
    expect(cluster.peekPod(NS, name)).toBeUndefined();
  });

  it('fails a seeded fraction of calls with 500 or 504, the same calls for the same seed', () => {
    const outcomes = (seed: number): string[] => {
      const { cluster } = setup({ seed });
      cluster.injectApiFaults({ errorRate: 0.3, timeoutRate: 0.2, verbs: ['list'] });
      return Array.from({ length: 40 }, () =>
        cluster.listJobs(NS).match(
          () => 'ok',
          (e) => String(e.code),
        ),
      );
    };
    const run = outcomes(11);
    expect(run).toEqual(outcomes(11));
    expect(run).toContain('ok');
    expect(run).toContain('500');
    expect(run).toContain('504');
  });

  it('applies some timed-out writes and not others, and records which', () => {
    const { cluster } = setup({ seed: 5 });
    cluster.injectApiFaults({ timeoutRate: 1, verbs: ['create'] });
    for (let i = 0; i < 20; i++)
      expect(cluster.createJob(NS, job(`w${i}`, ['true'])).isErr()).toBe(true);
    const applied = cluster.injectedFaults.filter((f) => f.applied).length;
    expect(cluster.allJobs(NS)).toHaveLength(applied);
    expect(applied).toBeGreaterThan(0);
    expect(applied).toBeLessThan(20);
  });

  it('answers 503 to every call while unreachable, and fails exactly the next calls when told', () => {
    const { cluster } = setup();
    cluster.setReachable(false);
    expect(cluster.listPods(NS)._unsafeUnwrapErr()).toMatchObject({ code: 503 });
    cluster.setReachable(true);
    cluster.failNextCalls(2, 'InternalError', 'get');
    expect(cluster.listPods(NS).isOk()).toBe(true);
    expect(cluster.getJob(NS, 'x')._unsafeUnwrapErr().reason).toBe('InternalError');
    expect(cluster.getJob(NS, 'x')._unsafeUnwrapErr().reason).toBe('InternalError');
    expect(cluster.getJob(NS, 'x')._unsafeUnwrapErr().reason).toBe('NotFound');
  });

  it('counts a pod deleted behind the Job’s back as a failure of the Job', () => {
    const { cluster, advance } = setup();
    cluster.createJob(NS, job('d1', ['sleep', 'infinity']))._unsafeUnwrap();
    advance(s(2));
    cluster.forceRemovePod(NS, podOf(cluster, 'd1')?.metadata?.name ?? '');
    cluster.tick();
    const j = cluster.peekJob(NS, 'd1');
    expect(j?.status?.failed).toBe(1);
    expect(j?.status?.conditions?.[0]).toMatchObject({
      type: 'Failed',
      reason: 'BackoffLimitExceeded',
    });
    expect(podOf(cluster, 'd1')).toBeUndefined();
  });
});
