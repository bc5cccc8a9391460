import fc from 'fast-check';
import type { ResultAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import type {
  WorkerHandle,
  WorkerProviderError,
  WorkerSpec,
} from '../ports/worker-provider.port.js';
import { OWNERSHIP_LABELS } from '../provider/ownership.js';
import { InMemoryWorkerProvider } from '../testing/in-memory-worker-provider.js';
import { lifecycleHarness, type LifecycleHarness } from '../testing/lifecycle-harness.js';
import type { WorkerId } from '../worker/ids.js';
import { checkTransition, isTerminal, type WorkerState } from '../worker/worker-state.js';
import { FORCE_REMOVE_MARGIN } from './deadlines.js';

/**
 * Model-based test of the manager behind the decorator, against the fake provider with
 * injected faults. The model predicts each worker's state from the commands; the real system
 * must agree after every command.
 */
interface ModelWorker {
  readonly mode: 'job' | 'agent';
  state: WorkerState;
  /** Whether its resource's process still runs. */
  running: boolean;
  /** Whether its resource still exists. */
  present: boolean;
}
interface Model {
  readonly workers: Map<WorkerId, ModelWorker>;
  /** Workers the model no longer tracks (cleaned up). */
  readonly gone: Set<WorkerId>;
}
interface Real {
  readonly h: LifecycleHarness;
}

// Lifetime and idle timeout beyond what 40 commands can advance the clock (an expire is
// about 2 minutes): the model does not predict those two rules.
const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(86_400_000)
  .idleTimeout(43_200_000)
  .ttlAfterCompletion(60_000)
  .build()
  ._unsafeUnwrap();

const pick = (m: Model, i: number): WorkerId | undefined =>
  [...m.workers.keys()][i % Math.max(1, m.workers.size)];

const sameAsModel = (m: Model, r: Real): void => {
  for (const [id, w] of m.workers) expect(r.h.manager.getWorker(id)?.state, id).toBe(w.state);
  for (const id of m.gone) expect(r.h.manager.getWorker(id)).toBeUndefined();
  expect(r.h.manager.trackedCount).toBe(m.workers.size);
};

class Create implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly mode: 'job' | 'agent',
    readonly providerFails: boolean,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    if (this.providerFails) r.h.provider.failNext('createWorker');
    const before = r.h.provider.resourceIds().length;
    const id = r.h.ids.workerId();
    const result = await r.h.managed.createWorker({
      workerId: id,
      mode: this.mode,
      image: 'img',
      command: ['sleep', 'infinity'],
      policy,
    });
    await r.h.manager.whenIdle();
    if (this.providerFails) {
      expect(result.isErr()).toBe(true);
      expect(r.h.provider.resourceIds().length).toBe(before);
    } else {
      expect(result.isOk()).toBe(true);
      m.workers.set(id, {
        mode: this.mode,
        state: this.mode === 'job' ? 'busy' : 'ready',
        running: true,
        present: true,
      });
    }
    sameAsModel(m, r);
  }
  toString = () => `create(${this.mode}${this.providerFails ? ', provider fails' : ''})`;
}

class Mark implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly to: 'busy' | 'ready',
    readonly target: number,
  ) {}
  check = (m: Readonly<Model>) => m.workers.size > 0;
  async run(m: Model, r: Real): Promise<void> {
    const id = pick(m, this.target)!;
    const w = m.workers.get(id)!;
    const result = await (this.to === 'busy'
      ? r.h.manager.markWorkerBusy(id)
      : r.h.manager.markWorkerReady(id));
    const allowed = checkTransition(w.state, this.to);
    expect(result.isOk()).toBe(allowed.isOk());
    if (allowed.isOk()) w.state = this.to;
    else
      expect(result._unsafeUnwrapErr()).toEqual({
        type: 'InvalidTransition',
        from: w.state,
        to: this.to,
      });
    sameAsModel(m, r);
  }
  toString = () => `mark ${this.to}(#${this.target})`;
}

class Destroy implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly target: number,
    readonly providerFails: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.workers.size > 0;
  async run(m: Model, r: Real): Promise<void> {
    const id = pick(m, this.target)!;
    const w = m.workers.get(id)!;
    if (this.providerFails) r.h.provider.failNext('destroyWorker');
    const worker = r.h.manager.getWorker(id)!;
    const result = await r.h.managed.destroyWorker(r.h.manager.handleOf(worker));
    await r.h.manager.whenIdle();
    if (this.providerFails) {
      expect(result.isErr()).toBe(true);
      // A manual destroy that could not remove the resource leaves the worker terminating
      // (or as it was, if it had already finished); the force-remove rule finishes it.
      if (!isTerminal(w.state)) w.state = 'terminating';
    } else {
      expect(result.isOk()).toBe(true);
      expect(r.h.provider.has(worker.resourceId)).toBe(false);
      m.workers.delete(id);
      m.gone.add(id);
    }
    sameAsModel(m, r);
  }
  toString = () => `destroy(#${this.target}${this.providerFails ? ', provider fails' : ''})`;
}

class Exit implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly target: number,
    readonly code: number,
    readonly notify: boolean,
  ) {}
  check = (m: Readonly<Model>) => m.workers.size > 0;
  async run(m: Model, r: Real): Promise<void> {
    const id = pick(m, this.target)!;
    const w = m.workers.get(id)!;
    r.h.provider.exit(r.h.manager.getWorker(id)!.resourceId, this.code, { notify: this.notify });
    await r.h.manager.whenIdle();
    if (!this.notify) await r.h.manager.reconcile();
    if (w.running && !isTerminal(w.state)) w.state = 'terminated';
    w.running = false;
    sameAsModel(m, r);
  }
  toString = () => `exit(#${this.target}, ${this.code}${this.notify ? '' : ', silently'})`;
}

class Vanish implements fc.AsyncCommand<Model, Real> {
  constructor(readonly target: number) {}
  check = (m: Readonly<Model>) => m.workers.size > 0;
  async run(m: Model, r: Real): Promise<void> {
    const id = pick(m, this.target)!;
    const w = m.workers.get(id)!;
    const lostBefore = r.h.publisher.ofType('WorkerLost').length;
    r.h.provider.vanish(r.h.manager.getWorker(id)!.resourceId);
    await r.h.manager.reconcile();
    const live = w.state !== 'terminating' && !isTerminal(w.state);
    // Lost once, live or finished, unless it was being stopped or was gone already.
    const lost = w.present && w.state !== 'terminating';
    expect(r.h.publisher.ofType('WorkerLost').length).toBe(lostBefore + (lost ? 1 : 0));
    if (live) w.state = 'terminated';
    w.running = false;
    w.present = false;
    sameAsModel(m, r);
  }
  toString = () => `vanish(#${this.target})`;
}

class Expire implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    // Past every retention and forced-removal deadline, short of the lifetime.
    await r.h.advance(policy.ttlAfterCompletion! + policy.gracefulTerminationTimeout + 30_000);
    await r.h.manager.runGcCycle();
    for (const [id, w] of m.workers) {
      if (isTerminal(w.state)) {
        m.workers.delete(id);
        m.gone.add(id);
      } else if (w.state === 'terminating') {
        // Force-removed now; its retention starts now.
        w.state = 'terminated';
        w.running = false;
        w.present = false;
      }
    }
    await r.h.manager.runGcCycle();
    sameAsModel(m, r);
  }
  toString = () => 'expire';
}

describe('the lifecycle manager against a model', () => {
  it('agrees with the model after every command, with faults injected', async () => {
    const commands = [
      fc
        .tuple(fc.constantFrom('job' as const, 'agent' as const), fc.boolean())
        .map(([mode, fails]) => new Create(mode, fails)),
      fc
        .tuple(fc.constantFrom('busy' as const, 'ready' as const), fc.nat())
        .map(([to, t]) => new Mark(to, t)),
      fc.tuple(fc.nat(), fc.boolean()).map(([t, fails]) => new Destroy(t, fails)),
      fc
        .tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean())
        .map(([t, code, notify]) => new Exit(t, code, notify)),
      fc.nat().map((t) => new Vanish(t)),
      fc.constant(new Expire()),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40 }), async (cmds) => {
        const setup = () => ({
          model: { workers: new Map(), gone: new Set() } as Model,
          real: { h: lifecycleHarness({ policy }) },
        });
        await fc.asyncModelRun(setup, cmds);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------
// Interleavings: operations started and left running, slow provider calls answered in a
// random order, faults, re-creates under the same ids; invariants checked once all settled.

const ILEAVE_GRACE = 30_000;
const ILEAVE_TTL = 60_000;
const ileavePolicy = EphemeralWorkerPolicy.builder()
  .maxLifetime(86_400_000)
  .idleTimeout(43_200_000)
  .ttlAfterCompletion(ILEAVE_TTL)
  .gracefulTerminationTimeout(ILEAVE_GRACE)
  .build()
  ._unsafeUnwrap();
/** Few ids, so that workers are re-created under an id whose old life is still ending. */
const IDS = ['w-a', 'w-b'] as const;

/** Remembers which resource each create made, to know what a failed create left. */
class CreateRecordingProvider extends InMemoryWorkerProvider {
  readonly createdFor = new Map<WorkerSpec, string>();
  override createWorker(spec: WorkerSpec): ResultAsync<WorkerHandle, WorkerProviderError> {
    return super.createWorker(spec).map((handle) => {
      this.createdFor.set(spec, handle.resourceId);
      return handle;
    });
  }
}

interface World {
  readonly h: LifecycleHarness;
  readonly provider: CreateRecordingProvider;
  readonly started: Promise<unknown>[];
  /** Resources a create that failed left (its cleanup removal failed or was slow). */
  readonly leftovers: Set<string>;
}

type Step =
  | {
      readonly kind: 'create';
      readonly id: number;
      readonly mode: 'job' | 'agent';
      readonly slow: boolean;
    }
  | {
      readonly kind: 'destroy';
      readonly id: number;
      readonly slow: boolean;
      readonly fails: boolean;
    }
  | { readonly kind: 'gc'; readonly slowStop: boolean; readonly failsStop: boolean }
  | { readonly kind: 'reconcile'; readonly slow: boolean }
  | { readonly kind: 'exit'; readonly id: number; readonly code: number }
  | { readonly kind: 'rmForce'; readonly id: number }
  | { readonly kind: 'advance'; readonly ms: number }
  /** Past the force-remove or a retention deadline, then a deadline pass. */
  | { readonly kind: 'expire' }
  | { readonly kind: 'release'; readonly pick: number };

/** Every promise callback that can run now has run: nothing in the fake world uses timers. */
const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

const resourceOf = (w: World, id: string): string | undefined =>
  w.provider.resourceIds().find((r) => w.provider.labelsOf(r)?.[OWNERSHIP_LABELS.workerId] === id);

async function runStep(w: World, step: Step): Promise<void> {
  const { h, provider } = w;
  switch (step.kind) {
    case 'create': {
      if (step.slow) provider.holdNext('createWorker');
      const spec: WorkerSpec = {
        workerId: IDS[step.id] as WorkerId,
        mode: step.mode,
        image: 'img',
        command: ['sleep', 'infinity'],
        policy: ileavePolicy,
      };
      w.started.push(
        Promise.resolve(h.managed.createWorker(spec)).then((r) => {
          const left = provider.createdFor.get(spec);
          if (r.isErr() && left !== undefined) w.leftovers.add(left);
        }),
      );
      break;
    }
    case 'destroy': {
      const tracked = h.manager.getWorker(IDS[step.id]!);
      if (tracked === undefined) break;
      if (step.slow) provider.holdNext('destroyWorker');
      if (step.fails) provider.failNext('destroyWorker');
      // As a DELETE in the background: the handle of the life it was asked for.
      w.started.push(Promise.resolve(h.managed.destroyWorker(h.manager.handleOf(tracked))));
      break;
    }
    case 'gc':
      if (step.slowStop) provider.holdNext('stopWorker');
      if (step.failsStop) provider.failNext('stopWorker');
      w.started.push(Promise.resolve(h.manager.runGcCycle()));
      break;
    case 'reconcile':
      if (step.slow) provider.holdNext('listManagedWorkers');
      w.started.push(Promise.resolve(h.manager.reconcile()));
      break;
    case 'exit': {
      const r = resourceOf(w, IDS[step.id]!);
      if (r !== undefined) provider.exit(r, step.code);
      break;
    }
    case 'rmForce': {
      // `docker rm -f` behind our back: exited (137), then removed.
      const r = resourceOf(w, IDS[step.id]!);
      if (r !== undefined) {
        provider.exit(r, 137);
        provider.vanish(r, { notify: true });
      }
      break;
    }
    case 'advance':
      h.clock.advance(step.ms);
      provider.settle();
      break;
    case 'expire':
      h.clock.advance(Math.max(ILEAVE_GRACE + FORCE_REMOVE_MARGIN, ILEAVE_TTL) + 1);
      provider.settle();
      w.started.push(Promise.resolve(h.manager.runGcCycle()));
      break;
    case 'release': {
      const held = provider.held;
      if (held.length > 0) w.started.push(held[step.pick % held.length]!.release());
      break;
    }
  }
  await drain();
}

/** Answers every slow call, waits for every operation, stop and notification. */
async function settleAll(w: World): Promise<void> {
  w.h.provider.heal();
  for (let i = 0; i < 50; i++) {
    await w.h.provider.releaseAll();
    await Promise.allSettled(w.started);
    await w.h.manager.whenStopsSettled();
    await w.h.manager.whenIdle();
    await drain();
    if (w.h.provider.held.length === 0 && w.h.manager.stopsInFlight === 0) return;
  }
  throw new Error('the world did not settle');
}

const TERMINAL_EVENTS = new Set(['WorkerEphemeralTerminated', 'WorkerEphemeralFailed']);

/** Each life of an id (from its WorkerEphemeralCreated on) is a valid life. */
function checkLives(w: World): void {
  for (const id of IDS) {
    // An orphan report is about a resource no life holds (a failed create's leftover).
    const types = w.h.publisher.typesFor(id).filter((t) => t !== 'OrphanWorkerDetected');
    if (types.length === 0) continue;
    expect(types[0], `${id}: ${types.join(' ')}`).toBe('WorkerEphemeralCreated');
    const lives: string[][] = [];
    for (const t of types) {
      if (t === 'WorkerEphemeralCreated') lives.push([]);
      lives.at(-1)!.push(t);
    }
    for (const life of lives) {
      const story = `${id}: ${life.join(' ')}`;
      const terminal = life.findIndex((t) => TERMINAL_EVENTS.has(t));
      expect(life.filter((t) => TERMINAL_EVENTS.has(t)).length, story).toBeLessThanOrEqual(1);
      expect(life.filter((t) => t === 'WorkerLost').length, story).toBeLessThanOrEqual(1);
      const cleaned = life.indexOf('WorkerEphemeralCleanedUp');
      if (cleaned >= 0) expect(cleaned, story).toBe(life.length - 1);
      if (terminal >= 0) {
        const after = life.slice(terminal + 1);
        for (const t of after)
          expect(['WorkerLost', 'WorkerEphemeralCleanedUp'], story).toContain(t);
      }
    }
  }
}

async function checkInvariants(w: World): Promise<void> {
  const { h, provider } = w;
  const listing = (await provider.listManagedWorkers())._unsafeUnwrap();
  for (const r of listing) {
    const id = r.labels[OWNERSHIP_LABELS.workerId]!;
    const tracked = h.manager.getWorker(id);
    // Ours and untracked: a leak, unless a failed create left it (reconciliation's to remove).
    if (tracked?.resourceId !== r.resourceId) {
      expect(w.leftovers.has(r.resourceId), `untracked resource ${r.resourceId}`).toBe(true);
      continue;
    }
    // A running resource whose worker is finished was ended by someone else's operation.
    if (r.status.state === 'running') {
      expect(isTerminal(tracked.state), `${id} ended while its resource runs`).toBe(false);
    }
  }
  for (const worker of h.manager.listWorkers()) {
    if (worker.state === 'creating' || worker.state === 'ready' || worker.state === 'busy') {
      expect(provider.has(worker.resourceId), `live ${worker.id} without a resource`).toBe(true);
    }
  }
  checkLives(w);
}

const idArb = fc.nat({ max: IDS.length - 1 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      id: idArb,
      mode: fc.constantFrom('job' as const, 'agent' as const),
      slow: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('destroy' as const),
      id: idArb,
      slow: fc.boolean(),
      fails: fc.nat({ max: 3 }).map((n) => n === 0),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'expire' as const }) },
  fc.record({ kind: fc.constant('gc' as const), slowStop: fc.boolean(), failsStop: fc.boolean() }),
  fc.record({ kind: fc.constant('reconcile' as const), slow: fc.boolean() }),
  fc.record({ kind: fc.constant('exit' as const), id: idArb, code: fc.constantFrom(0, 1, 137) }),
  fc.record({ kind: fc.constant('rmForce' as const), id: idArb }),
  fc.constant({ kind: 'advance' as const, ms: 1_000 }),
  fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
);

/** Runs the steps, settles, then two passes past every deadline that ends a finished life. */
async function runInterleaving(steps: readonly Step[]): Promise<void> {
  const h = lifecycleHarness({
    policy: ileavePolicy,
    provider: (id, clock) => new CreateRecordingProvider(id, clock),
  });
  const w: World = {
    h,
    provider: h.provider as CreateRecordingProvider,
    started: [],
    leftovers: new Set(),
  };
  for (const step of steps) await runStep(w, step);
  await settleAll(w);
  await h.manager.reconcile();
  for (let pass = 0; pass < 2; pass++) {
    h.clock.advance(ILEAVE_TTL + ILEAVE_GRACE + FORCE_REMOVE_MARGIN + 1);
    h.provider.settle();
    await h.manager.runGcCycle();
    await settleAll(w);
  }
  await h.manager.reconcile();
  await settleAll(w);
  await checkInvariants(w);
}

describe('the lifecycle manager under random interleavings', () => {
  it('keeps every life whole and nothing leaked, whatever the order slow calls end in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 30, size: 'max' }), (steps) =>
        runInterleaving(steps),
      ),
      { numRuns: 1_500 },
    );
  });

  it('survives the fenced interleaving: a slow destroy whose worker was re-created meanwhile', async () => {
    await runInterleaving([
      { kind: 'create', id: 0, mode: 'agent', slow: false },
      { kind: 'destroy', id: 0, slow: true, fails: false },
      { kind: 'expire' },
      { kind: 'expire' },
      { kind: 'create', id: 0, mode: 'agent', slow: false },
      { kind: 'release', pick: 0 },
    ]);
  });
});
