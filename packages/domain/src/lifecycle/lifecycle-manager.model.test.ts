import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { lifecycleHarness, type LifecycleHarness } from '../testing/lifecycle-harness.js';
import type { WorkerId } from '../worker/ids.js';
import { checkTransition, isTerminal, type WorkerState } from '../worker/worker-state.js';

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
    expect(r.h.publisher.ofType('WorkerLost').length).toBe(lostBefore + (live ? 1 : 0));
    if (live) w.state = 'terminated';
    w.running = false;
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
