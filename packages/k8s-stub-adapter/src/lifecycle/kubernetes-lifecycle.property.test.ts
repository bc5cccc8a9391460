import { isOwnedBy, OWNERSHIP_LABELS, validatePolicy, kubernetesProfile } from '@hodei/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IPod } from '../cluster/cluster-types.js';
import { kubernetesLifecycleHarness, type KubernetesLifecycleHarness } from '../testing/index.js';

const s = (n: number): number => n * 1_000;
const NS = 'default';

const policy = validatePolicy({
  ...kubernetesProfile,
  maxLifetime: s(600),
  idleTimeout: s(120),
  startupTimeout: s(60),
  gracefulTerminationTimeout: s(10),
  ttlAfterCompletion: s(30),
  orphanCheckInterval: s(10),
  orphanGracePeriod: s(20),
  orphanAction: 'remove',
})._unsafeUnwrap();

type Op =
  | { op: 'create'; mode: 'job' | 'agent'; command: readonly string[] }
  | { op: 'destroy'; pick: number }
  | { op: 'advance'; ms: number }
  | { op: 'passes' }
  | { op: 'deletePodBehindOurBack'; pick: number }
  | { op: 'loseNode'; pick: number }
  | { op: 'stickTerminating'; pick: number }
  | { op: 'orphanPod' }
  | { op: 'barePod' }
  | { op: 'apiFaults'; errorRate: number; timeoutRate: number }
  | { op: 'apiHealthy' };

const commandArb: fc.Arbitrary<readonly string[]> = fc.oneof(
  fc.constant(['sleep', 'infinity']),
  fc
    .record({ secs: fc.integer({ min: 0, max: 90 }), code: fc.integer({ min: 0, max: 3 }) })
    .map(({ secs, code }) => ['sh', '-c', `echo run; sleep ${secs}; exit ${code}`]),
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('create' as const),
      mode: fc.constantFrom('job' as const, 'agent' as const),
      command: commandArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('destroy' as const), pick: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.integer({ min: 100, max: s(60) }),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ op: 'passes' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('deletePodBehindOurBack' as const), pick: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('loseNode' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('stickTerminating' as const), pick: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'orphanPod' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'barePod' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('apiFaults' as const),
      errorRate: fc.constantFrom(0.1, 0.3, 0.5),
      timeoutRate: fc.constantFrom(0, 0.1, 0.3),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'apiHealthy' as const }) },
);

const pick = <T>(items: readonly T[], n: number): T | undefined =>
  items.length === 0 ? undefined : items[n % items.length];

const ours = (h: KubernetesLifecycleHarness, pod: IPod): boolean =>
  isOwnedBy({ ...pod.metadata?.annotations, ...pod.metadata?.labels }, h.provider.providerId);

async function apply(h: KubernetesLifecycleHarness, op: Op, lost: Set<string>): Promise<void> {
  switch (op.op) {
    case 'create':
      await h.managed.createWorker({
        workerId: h.ids.workerId(),
        mode: op.mode,
        image: 'hodei/worker:0.1.0',
        command: op.command,
        policy,
      });
      await h.manager.whenIdle();
      return;
    case 'destroy': {
      const worker = pick(h.manager.listWorkers(), op.pick);
      if (worker !== undefined) await h.managed.destroyWorker(h.manager.handleOf(worker));
      await h.manager.whenIdle();
      return;
    }
    case 'advance':
      await h.advance(op.ms);
      return;
    case 'passes':
      await h.runPasses();
      return;
    case 'deletePodBehindOurBack': {
      const pod = pick(
        h.cluster.allPods(NS).filter((p) => ours(h, p)),
        op.pick,
      );
      if (pod !== undefined) h.cluster.forceRemovePod(NS, pod.metadata?.name ?? '');
      return;
    }
    case 'loseNode': {
      // One node always stays, so that new pods can still be scheduled.
      const node = pick(h.cluster.nodeNames(), op.pick);
      if (node !== undefined && lost.size < h.cluster.nodeNames().length - 1) {
        lost.add(node);
        h.cluster.loseNode(node);
      }
      return;
    }
    case 'stickTerminating': {
      const pod = pick(h.cluster.allPods(NS), op.pick);
      if (pod !== undefined) h.cluster.makePodStuckTerminating(NS, pod.metadata?.name ?? '');
      return;
    }
    case 'orphanPod':
      h.cluster.addForeignPod(NS, {
        labels: {
          [OWNERSHIP_LABELS.managed]: 'true',
          [OWNERSHIP_LABELS.providerId]: h.provider.providerId,
          [OWNERSHIP_LABELS.workerId]: `orphan-${h.ids.workerId()}`,
        },
        command: ['sleep', 'infinity'],
      });
      return;
    case 'barePod':
      h.cluster.addForeignPod(NS, { command: ['sleep', 'infinity'] });
      return;
    case 'apiFaults':
      h.cluster.injectApiFaults({ errorRate: op.errorRate, timeoutRate: op.timeoutRate });
      return;
    case 'apiHealthy':
      h.cluster.injectApiFaults({});
      return;
  }
}

describe('random operations and faults on the simulated cluster', () => {
  it('leave no tracked live worker without a pod and no pod with our labels untracked once the passes have run twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        async (seed, ops) => {
          const h = kubernetesLifecycleHarness({ seed, policy, stepMs: 1_000 });
          const lost = new Set<string>();
          for (const op of ops) await apply(h, op, lost);
          const foreign = h.cluster
            .allPods(NS)
            .filter((p) => p.metadata?.labels === undefined)
            .map((p) => p.metadata?.name ?? '');

          // Faults end; time passes past every grace period; then the passes run twice.
          h.cluster.injectApiFaults({});
          for (let i = 0; i < 6; i++) {
            await h.advance(s(60));
            await h.runPasses();
          }
          await h.runPasses();
          await h.runPasses();

          const tracked = new Set(h.manager.listWorkers().map((w) => w.resourceId));
          const pods = h.cluster.allPods(NS);
          for (const worker of h.manager.listWorkers()) {
            const hasPod = pods.some(
              (p) =>
                p.metadata?.ownerReferences?.some((r) => r.name === worker.resourceId) === true,
            );
            expect({ worker: worker.id, state: worker.state, hasPod }).toEqual({
              worker: worker.id,
              state: worker.state,
              hasPod: true,
            });
          }
          for (const pod of pods.filter((p) => ours(h, p))) {
            const owner = pod.metadata?.ownerReferences?.[0]?.name;
            const resourceId = owner ?? `pod/${pod.metadata?.name ?? ''}`;
            expect({ pod: pod.metadata?.name, tracked: tracked.has(resourceId) }).toEqual({
              pod: pod.metadata?.name,
              tracked: true,
            });
          }
          // Nothing without our labels was touched.
          for (const name of foreign) expect(h.cluster.peekPod(NS, name)).toBeDefined();
          h.close();
        },
      ),
      { numRuns: 200 },
    );
  });
});
