import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STATE_OF_EVENT, type LifecycleEvent } from '../events/lifecycle-event.js';
import { TERMINATION_REASONS } from '../events/reasons.js';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { ownershipLabels } from '../provider/ownership.js';
import { lifecycleHarness, type LifecycleHarness } from '../testing/lifecycle-harness.js';
import type { ProviderId, WorkerId } from '../worker/ids.js';
import {
  checkTransition,
  isTerminal,
  WORKER_STATES,
  type WorkerState,
} from '../worker/worker-state.js';
import { newWorker, transition, type TransitionInput, type Worker } from '../worker/worker.js';

const s = (n: number) => n * 1000;

const policyArb = fc
  .record({
    ttl: fc.constantFrom(null, 0, s(5), s(60)),
    autoCleanup: fc.boolean(),
    orphanAction: fc.constantFrom('report' as const, 'remove' as const),
  })
  .map(({ ttl, autoCleanup, orphanAction }) =>
    EphemeralWorkerPolicy.builder()
      .maxLifetime(s(300))
      .idleTimeout(s(60))
      .startupTimeout(s(30))
      .gracefulTerminationTimeout(s(5))
      .ttlAfterCompletion(ttl)
      .autoCleanupEnabled(autoCleanup)
      .orphanDetectionEnabled(true)
      .orphanCheckInterval(s(10))
      .orphanGracePeriod(s(20))
      .orphanAction(orphanAction)
      .build()
      ._unsafeUnwrap(),
  );

const inputArb: fc.Arbitrary<TransitionInput> = fc.oneof(
  fc.constant({ to: 'ready' as const }),
  fc.constant({ to: 'busy' as const }),
  fc.constantFrom(...TERMINATION_REASONS).map((reason) => ({ to: 'terminating' as const, reason })),
  fc
    .option(fc.integer({ min: 0, max: 255 }))
    .map((exitCode) => ({ to: 'terminated' as const, exitCode })),
  fc.constant({ to: 'failed' as const, error: 'boom' }),
);

/** Operations a property test throws at the manager, with faults mixed in. */
type Op =
  | { kind: 'create'; mode: 'job' | 'agent'; command: 'forever' | 'quick' }
  | { kind: 'busy' | 'ready' | 'destroy' | 'exit' | 'vanish' | 'unhealthy'; target: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'gc' | 'reconcile' | 'orphans' }
  | { kind: 'stray' | 'foreign' }
  | {
      kind: 'failNext';
      operation: 'stopWorker' | 'destroyWorker' | 'listManagedWorkers' | 'createWorker';
    };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      mode: fc.constantFrom('job' as const, 'agent' as const),
      command: fc.constantFrom('forever' as const, 'quick' as const),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom(
        'busy' as const,
        'ready' as const,
        'destroy' as const,
        'exit' as const,
        'vanish' as const,
        'unhealthy' as const,
      ),
      target: fc.nat(20),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 1, max: s(120) }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom('gc' as const, 'reconcile' as const, 'orphans' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constantFrom('stray' as const, 'foreign' as const) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('failNext' as const),
      operation: fc.constantFrom(
        'stopWorker' as const,
        'destroyWorker' as const,
        'listManagedWorkers' as const,
        'createWorker' as const,
      ),
    }),
  },
);

interface Run {
  readonly h: LifecycleHarness;
  readonly created: WorkerId[];
  readonly foreign: string[];
}

async function runOps(
  policy: EphemeralWorkerPolicy,
  ops: readonly Op[],
  afterEach: (h: LifecycleHarness) => void = () => undefined,
): Promise<Run> {
  const h = lifecycleHarness({ policy });
  const created: WorkerId[] = [];
  const foreign: string[] = [];
  const target = (i: number) => created[i % Math.max(1, created.length)];
  for (const op of ops) {
    switch (op.kind) {
      case 'create': {
        const id = h.ids.workerId();
        const r = await h.managed.createWorker({
          workerId: id,
          mode: op.mode,
          image: 'img',
          command: op.command === 'quick' ? ['sh', '-c', 'sleep 3; exit 0'] : ['sleep', 'infinity'],
          policy,
        });
        if (r.isOk()) created.push(id);
        break;
      }
      case 'busy':
      case 'ready': {
        const id = target(op.target);
        if (id !== undefined)
          await (op.kind === 'busy' ? h.manager.markWorkerBusy(id) : h.manager.markWorkerReady(id));
        break;
      }
      case 'destroy': {
        const w = created[op.target % Math.max(1, created.length)];
        const worker = w === undefined ? undefined : h.manager.getWorker(w);
        if (worker !== undefined) await h.managed.destroyWorker(h.manager.handleOf(worker));
        break;
      }
      case 'exit':
      case 'vanish':
      case 'unhealthy': {
        const id = target(op.target);
        const w = id === undefined ? undefined : h.manager.getWorker(id);
        if (w === undefined) break;
        if (op.kind === 'exit') h.provider.exit(w.resourceId, 1);
        else if (op.kind === 'vanish') h.provider.vanish(w.resourceId);
        else h.provider.setHealth(w.resourceId, 'unhealthy');
        break;
      }
      case 'advance':
        await h.advance(op.ms);
        break;
      case 'gc':
        await h.manager.runGcCycle();
        break;
      case 'reconcile':
        await h.manager.reconcile();
        break;
      case 'orphans':
        await h.manager.cleanupOrphans();
        break;
      case 'stray':
        h.provider.addResource({
          labels: ownershipLabels(
            {
              workerId: `stray-${h.ids.workerId()}` as WorkerId,
              mode: 'job',
              image: 'img',
              policy,
            },
            'fake' as ProviderId,
            h.clock.now(),
          ),
        });
        break;
      case 'foreign':
        foreign.push(
          h.provider.addResource({
            labels: ownershipLabels(
              { workerId: 'theirs' as WorkerId, mode: 'job', image: 'img', policy },
              'other' as ProviderId,
              h.clock.now(),
            ),
          }),
          h.provider.addResource({ labels: {} }),
        );
        break;
      case 'failNext':
        h.provider.failNext(op.operation);
        break;
    }
    await h.manager.whenIdle();
    afterEach(h);
  }
  return { h, created, foreign };
}

/** The state a worker's events say it is in, checking each step against the table. */
function replay(events: readonly LifecycleEvent[]): {
  state: WorkerState | 'cleaned';
  problems: string[];
} {
  const problems: string[] = [];
  let state: WorkerState | 'cleaned' | undefined;
  for (const e of events) {
    if (state === 'cleaned') problems.push(`${e.type} after CleanedUp`);
    if (e.type === 'WorkerEphemeralCreated') {
      if (state !== undefined) problems.push('Created twice');
      state = 'creating';
      continue;
    }
    if (state === undefined) problems.push(`${e.type} before Created`);
    if (e.type === 'WorkerEphemeralCleanedUp') {
      if (state !== undefined && state !== 'cleaned' && !isTerminal(state))
        problems.push(`CleanedUp while ${state}`);
      state = 'cleaned';
      continue;
    }
    const to = STATE_OF_EVENT[e.type];
    if (to === undefined || state === undefined || state === 'cleaned') continue;
    const check = checkTransition(state, to);
    if (check.isErr()) problems.push(`${state} → ${to}`);
    else if (check.value === 'repeat') problems.push(`repeated ${to} emitted an event`);
    state = to;
  }
  return { state: state ?? 'cleaned', problems };
}

describe('state machine properties', () => {
  it('any sequence of transitions keeps the worker in a valid state, and only changes emit', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('job' as const, 'agent' as const),
        fc.array(inputArb, { maxLength: 30 }),
        (mode, inputs) => {
          let w: Worker = newWorker({
            id: 'w' as WorkerId,
            providerId: 'p' as ProviderId,
            mode,
            resourceId: 'r',
            image: 'i',
            policy: EphemeralWorkerPolicy.docker,
            createdAt: 0,
          });
          let now = 0;
          for (const input of inputs) {
            now += 1;
            const before = w.state;
            const r = transition(w, input, now);
            if (r.isErr()) {
              expect(checkTransition(before, input.to).isErr()).toBe(true);
              continue;
            }
            w = r.value.worker;
            expect(WORKER_STATES).toContain(w.state);
            expect(w.state).toBe(input.to);
            expect(r.value.kind).toBe(before === input.to ? 'repeat' : 'changed');
            if (isTerminal(before)) expect(w.state).toBe(before);
            if (isTerminal(w.state)) expect(w.terminatedAt).not.toBeNull();
          }
        },
      ),
    );
  });

  it('events of every worker are causally ordered and match its tracked state', async () => {
    let workersChecked = 0;
    let eventsChecked = 0;
    await fc.assert(
      fc.asyncProperty(
        policyArb,
        fc.array(opArb, { minLength: 5, maxLength: 40 }),
        async (policy, ops) => {
          const { h, created } = await runOps(policy, ops);
          for (const id of created) {
            const { state, problems } = replay(
              h.publisher.events.filter(
                (e) => 'workerId' in e && e.workerId === id && e.type !== 'OrphanWorkerDetected',
              ),
            );
            expect(problems).toEqual([]);
            expect(state).toBe(h.manager.getWorker(id)?.state ?? 'cleaned');
            workersChecked += 1;
          }
          eventsChecked += h.publisher.events.length;
        },
      ),
      { numRuns: 150 },
    );
    // The runs exercised real lives, not empty sequences.
    expect(workersChecked).toBeGreaterThan(150);
    expect(eventsChecked).toBeGreaterThan(600);
  });

  it('keeps the listing pages and the live count in step with the tracked workers', async () => {
    const byCreation = (a: Worker, b: Worker) =>
      a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const check = (h: LifecycleHarness) => {
      const all = [...h.manager.listWorkers()].sort(byCreation);
      expect(h.manager.countLiveWorkers()).toBe(all.filter((w) => !isTerminal(w.state)).length);
      expect(h.manager.listWorkersPage({ limit: Infinity })).toEqual(all);
      for (const state of WORKER_STATES) {
        for (const mode of ['job', 'agent'] as const) {
          expect(h.manager.listWorkersPage({ limit: Infinity, state, mode })).toEqual(
            all.filter((w) => w.state === state && w.mode === mode),
          );
        }
      }
      const first = all[0];
      if (first !== undefined) {
        expect(h.manager.listWorkersPage({ after: [first.createdAt, first.id], limit: 2 })).toEqual(
          all.slice(1, 3),
        );
      }
    };
    await fc.assert(
      fc.asyncProperty(
        policyArb,
        fc.array(opArb, { minLength: 5, maxLength: 40 }),
        async (policy, ops) => {
          await runOps(policy, ops, check);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never stops or removes a resource without our labels or with another provider id', async () => {
    await fc.assert(
      fc.asyncProperty(
        policyArb,
        fc.array(opArb, { minLength: 5, maxLength: 40 }),
        async (policy, ops) => {
          const { h, foreign } = await runOps(policy, [
            { kind: 'foreign' },
            ...ops,
            { kind: 'advance', ms: s(3600) },
            { kind: 'reconcile' },
            { kind: 'orphans' },
            { kind: 'gc' },
          ]);
          for (const id of foreign) {
            expect(h.provider.has(id)).toBe(true);
            expect(h.provider.removed).not.toContain(id);
            expect(h.provider.stopped).not.toContain(id);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('leaves no tracked live worker without a resource and no finished one past its TTL once the passes have run', async () => {
    await fc.assert(
      fc.asyncProperty(
        policyArb,
        fc.array(opArb, { minLength: 5, maxLength: 40 }),
        async (policy, ops) => {
          const { h } = await runOps(policy, ops);
          h.provider.heal();
          // Past any graceful timeout plus margin, so a stuck termination has been forced.
          await h.advance(policy.gracefulTerminationTimeout + 30_000);
          await h.manager.reconcile();
          await h.manager.runGcCycle();
          await h.manager.reconcile();
          await h.manager.runGcCycle();
          const resources = new Set(h.provider.resourceIds());
          for (const w of h.manager.listWorkers()) {
            expect(w.state).not.toBe('terminating');
            if (!isTerminal(w.state)) expect(resources.has(w.resourceId)).toBe(true);
            if (isTerminal(w.state) && policy.autoCleanupEnabled) {
              expect(h.clock.now()).toBeLessThan(
                (w.terminatedAt ?? 0) + (policy.ttlAfterCompletion ?? 0),
              );
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
