import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import type { ProviderId, WorkerId } from '../worker/ids.js';
import { newWorker, transition, type TransitionInput, type Worker } from '../worker/worker.js';
import {
  dueExpiryWarning,
  dueRule,
  explainDeadlines,
  FORCE_REMOVE_MARGIN,
  nextDeadline,
  type DueRule,
} from './deadlines.js';

const s = (n: number) => n * 1000;
const T0 = Date.parse('2025-01-01T00:00:00.000Z');

const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .ttlAfterCompletion(s(60))
  .idleTimeout(s(120))
  .gracefulTerminationTimeout(s(10))
  .startupTimeout(s(30))
  .expiryWarning(s(60))
  .build()
  ._unsafeUnwrap();

function worker(mode: 'job' | 'agent', p = policy): Worker {
  return newWorker({
    id: 'w-1' as WorkerId,
    providerId: 'fake' as ProviderId,
    mode,
    resourceId: 'r-1',
    image: 'img',
    policy: p,
    createdAt: T0,
  });
}

/** The worker after `moves`, each at its time; throws on a move the state machine refuses. */
function moved(w: Worker, ...moves: (readonly [TransitionInput, number])[]): Worker {
  return moves.reduce((acc, [input, at]) => transition(acc, input, at)._unsafeUnwrap().worker, w);
}

describe('explainDeadlines', () => {
  it('gives a creating worker its lifetime and startup deadlines, startup first', () => {
    expect(explainDeadlines(worker('job'))).toEqual({
      lifetimeAt: T0 + s(600),
      idleAt: null,
      startupAt: T0 + s(30),
      forceRemoveAt: null,
      cleanupAt: null,
      // Due after the startup deadline: the pass would not send it while the worker is creating.
      expiryWarningAt: null,
      next: { rule: 'startup', at: T0 + s(30) },
    });
  });

  it('gives a ready agent its idle deadline, from its last activity, and warns of it first', () => {
    const w = moved(worker('agent'), [{ to: 'ready' }, T0 + s(5)]);
    expect(explainDeadlines(w)).toEqual({
      lifetimeAt: T0 + s(600),
      idleAt: T0 + s(125),
      startupAt: null,
      forceRemoveAt: null,
      cleanupAt: null,
      expiryWarningAt: T0 + s(65),
      next: { rule: 'idle', at: T0 + s(125) },
    });
  });

  it('gives a busy agent and a ready job no idle deadline', () => {
    const busy = moved(worker('agent'), [{ to: 'ready' }, T0], [{ to: 'busy' }, T0 + s(1)]);
    const readyJob = moved(worker('job'), [{ to: 'ready' }, T0]);
    for (const w of [busy, readyJob]) {
      expect(explainDeadlines(w)).toMatchObject({
        lifetimeAt: T0 + s(600),
        idleAt: null,
        startupAt: null,
        expiryWarningAt: T0 + s(540),
        next: { rule: 'lifetime', at: T0 + s(600) },
      });
    }
  });

  it('names the lifetime rule when it falls with the idle deadline, as the pass tries it first', () => {
    const p = EphemeralWorkerPolicy.builder(policy).maxLifetime(s(120)).build()._unsafeUnwrap();
    const w = moved(worker('agent', p), [{ to: 'ready' }, T0]);
    expect(explainDeadlines(w)).toMatchObject({
      lifetimeAt: T0 + s(120),
      idleAt: T0 + s(120),
      next: { rule: 'lifetime', at: T0 + s(120) },
    });
    expect(dueExpiryWarning(w, T0 + s(60))).toEqual({
      rule: 'lifetime',
      deadline: T0 + s(120),
      at: T0 + s(60),
    });
  });

  it('gives a terminating worker only its force-remove deadline', () => {
    const w = moved(
      worker('job'),
      [{ to: 'ready' }, T0],
      [{ to: 'terminating', reason: 'ManualTermination' }, T0 + s(100)],
    );
    expect(explainDeadlines(w)).toEqual({
      lifetimeAt: null,
      idleAt: null,
      startupAt: null,
      forceRemoveAt: T0 + s(110) + FORCE_REMOVE_MARGIN,
      cleanupAt: null,
      expiryWarningAt: null,
      next: { rule: 'forceRemove', at: T0 + s(110) + FORCE_REMOVE_MARGIN },
    });
  });

  it('gives a finished worker its cleanup deadline when auto-cleanup is on, none when off', () => {
    const ended = (w: Worker) =>
      moved(w, [{ to: 'ready' }, T0], [{ to: 'terminated', exitCode: 0 }, T0 + s(200)]);
    const failed = (w: Worker) => moved(w, [{ to: 'failed', error: 'boom' }, T0 + s(10)]);
    expect(explainDeadlines(ended(worker('job')))).toEqual({
      lifetimeAt: null,
      idleAt: null,
      startupAt: null,
      forceRemoveAt: null,
      cleanupAt: T0 + s(260),
      expiryWarningAt: null,
      next: { rule: 'ttl', at: T0 + s(260) },
    });
    expect(explainDeadlines(failed(worker('job')))).toMatchObject({
      cleanupAt: T0 + s(70),
      next: { rule: 'ttl', at: T0 + s(70) },
    });
    const kept = EphemeralWorkerPolicy.builder(policy)
      .autoCleanupEnabled(false)
      .build()
      ._unsafeUnwrap();
    for (const w of [ended(worker('job', kept)), failed(worker('agent', kept))]) {
      expect(explainDeadlines(w)).toEqual({
        lifetimeAt: null,
        idleAt: null,
        startupAt: null,
        forceRemoveAt: null,
        cleanupAt: null,
        expiryWarningAt: null,
        next: null,
      });
      expect(nextDeadline(w)).toBeNull();
    }
  });

  it('owes no warning for a deadline already warned of, nor with expiryWarning 0', () => {
    const busy = moved(worker('job'), [{ to: 'ready' }, T0], [{ to: 'busy' }, T0]);
    expect(
      explainDeadlines({ ...busy, lifetimeWarnedFor: T0 + s(600) }).expiryWarningAt,
    ).toBeNull();
    // A deadline that moved since the warning is owed one again.
    expect(explainDeadlines({ ...busy, lifetimeWarnedFor: T0 + s(300) }).expiryWarningAt).toBe(
      T0 + s(540),
    );
    // An idle deadline warned of is another deadline.
    expect(explainDeadlines({ ...busy, idleWarnedFor: T0 + s(600) }).expiryWarningAt).toBe(
      T0 + s(540),
    );
    const off = EphemeralWorkerPolicy.builder(policy).expiryWarning(0).build()._unsafeUnwrap();
    expect(explainDeadlines(moved(worker('job', off), [{ to: 'ready' }, T0])).expiryWarningAt).toBe(
      null,
    );
  });
});

describe('nextDeadline', () => {
  it('wakes the pass for a pending warning before the deadline itself', () => {
    const busy = moved(worker('job'), [{ to: 'ready' }, T0], [{ to: 'busy' }, T0]);
    expect(nextDeadline(busy)).toBe(T0 + s(540));
    expect(nextDeadline({ ...busy, lifetimeWarnedFor: T0 + s(600) })).toBe(T0 + s(600));
  });
});

describe('the warning explainDeadlines names', () => {
  const busy = moved(worker('job'), [{ to: 'ready' }, T0], [{ to: 'busy' }, T0]);

  it('is none once a rule is due at the time asked about: the pass would apply the rule', () => {
    expect(explainDeadlines(busy, T0 + s(539)).expiryWarningAt).toBe(T0 + s(540));
    expect(explainDeadlines(busy, T0 + s(599)).expiryWarningAt).toBe(T0 + s(540));
    expect(explainDeadlines(busy, T0 + s(600)).expiryWarningAt).toBeNull();
    expect(explainDeadlines(busy, T0 + s(700))).toMatchObject({
      expiryWarningAt: null,
      next: { rule: 'lifetime', at: T0 + s(600) },
    });
  });

  it('is none when it would come at or after the first rule’s time, and nextDeadline leaves it out', () => {
    // Creating: the startup deadline at 30 s comes before the warning at 540 s.
    const creating = worker('job');
    expect(explainDeadlines(creating).expiryWarningAt).toBeNull();
    expect(nextDeadline(creating)).toBe(T0 + s(30));
    expect(dueExpiryWarning(creating, T0 + s(29))).toBeNull();
  });

  it('is none when it is as long as the timeout it warns of, or longer', () => {
    for (const warning of [s(120), s(200)]) {
      const p = EphemeralWorkerPolicy.builder(policy)
        .expiryWarning(warning)
        .build()
        ._unsafeUnwrap();
      const ready = moved(worker('agent', p), [{ to: 'ready' }, T0 + s(5)]);
      expect(explainDeadlines(ready).expiryWarningAt).toBeNull();
      expect(dueExpiryWarning(ready, T0 + s(100))).toBeNull();
      expect(nextDeadline(ready)).toBe(T0 + s(125));
    }
    const longer = EphemeralWorkerPolicy.builder(policy)
      .expiryWarning(s(600))
      .build()
      ._unsafeUnwrap();
    const job = moved(worker('job', longer), [{ to: 'ready' }, T0], [{ to: 'busy' }, T0]);
    expect(explainDeadlines(job).expiryWarningAt).toBeNull();
    expect(dueExpiryWarning(job, T0)).toBeNull();
  });
});

// ------------------------------------------------------------------ properties

const policyArb = fc
  .record({
    maxLifetime: fc.integer({ min: 1, max: s(3600) }),
    idle: fc.double({ min: 0, max: 1, noNaN: true }),
    startup: fc.double({ min: 0, max: 1, noNaN: true }),
    grace: fc.integer({ min: 0, max: s(120) }),
    ttl: fc.option(fc.integer({ min: 0, max: s(600) })),
    autoCleanup: fc.boolean(),
    warning: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: s(7200) })),
  })
  .map((r) =>
    EphemeralWorkerPolicy.builder()
      .maxLifetime(r.maxLifetime)
      .idleTimeout(Math.max(1, Math.floor(r.idle * r.maxLifetime)))
      .startupTimeout(Math.max(1, Math.floor(r.startup * r.maxLifetime)))
      .gracefulTerminationTimeout(r.grace)
      .ttlAfterCompletion(r.ttl)
      .autoCleanupEnabled(r.autoCleanup)
      .expiryWarning(r.warning)
      .build()
      ._unsafeUnwrap(),
  );

const inputArb: fc.Arbitrary<TransitionInput> = fc.oneof(
  fc.constant({ to: 'ready' as const }),
  fc.constant({ to: 'busy' as const }),
  fc.constant({ to: 'terminating' as const, reason: 'ManualTermination' as const }),
  fc.constant({ to: 'terminated' as const, exitCode: 0 }),
  fc.constant({ to: 'failed' as const, error: 'boom' }),
);

/** A worker reached by random moves at random times, warned of a random (or its own) deadline. */
const workerArb = fc
  .record({
    policy: policyArb,
    mode: fc.constantFrom('job' as const, 'agent' as const),
    moves: fc.array(fc.tuple(inputArb, fc.integer({ min: 0, max: s(900) })), { maxLength: 6 }),
    warned: fc.oneof(
      fc.constant('none' as const),
      fc.constant('own' as const),
      fc.integer({ min: 0, max: s(7200) }),
    ),
  })
  .map(({ policy: p, mode, moves, warned }) => {
    let w = worker(mode, p);
    let at = T0;
    for (const [input, step] of moves) {
      at += step;
      const r = transition(w, input, at);
      if (r.isOk()) w = r.value.worker;
    }
    const own = explainDeadlines(w);
    const ownDeadline =
      own.next?.rule === 'lifetime' || own.next?.rule === 'idle' ? own.next.at : own.lifetimeAt;
    if (warned === 'none') return w;
    if (warned !== 'own')
      return { ...w, lifetimeWarnedFor: T0 + warned, idleWarnedFor: T0 + warned };
    return own.next?.rule === 'idle'
      ? { ...w, idleWarnedFor: ownDeadline }
      : { ...w, lifetimeWarnedFor: ownDeadline };
  });

const RULE_FIELD = {
  lifetime: 'lifetimeAt',
  idle: 'idleAt',
  startup: 'startupAt',
  forceRemove: 'forceRemoveAt',
  ttl: 'cleanupAt',
} as const satisfies Record<DueRule, keyof ReturnType<typeof explainDeadlines>>;

const minOf = (values: readonly (number | null)[]): number | null =>
  values.reduce<number | null>((m, v) => (v !== null && (m === null || v < m) ? v : m), null);

describe('explainDeadlines, for any policy, state and time', () => {
  it('names as next the rule dueRule applies first, at the moment it first applies', () => {
    fc.assert(
      fc.property(workerArb, (w) => {
        const e = explainDeadlines(w);
        const ruleTimes = Object.values(RULE_FIELD).map((field) => e[field]);
        expect(e.next?.at ?? null).toBe(minOf(ruleTimes));
        if (e.next === null) return;
        expect(e[RULE_FIELD[e.next.rule]]).toBe(e.next.at);
        expect(dueRule(w, e.next.at)).toBe(e.next.rule);
        expect(dueRule(w, e.next.at - 1)).toBeNull();
      }),
    );
  });

  it('agrees with dueRule and dueExpiryWarning at any time, and nextDeadline is the earlier of next and the warning', () => {
    fc.assert(
      fc.property(workerArb, fc.integer({ min: -s(60), max: s(9000) }), (w, offset) => {
        const e = explainDeadlines(w);
        const now = T0 + offset;
        const due = dueRule(w, now);
        expect(due !== null).toBe(e.next !== null && now >= e.next.at);
        const warning = dueExpiryWarning(w, now);
        expect(warning !== null).toBe(
          due === null && e.expiryWarningAt !== null && now >= e.expiryWarningAt,
        );
        if (warning !== null) {
          expect(warning.at).toBe(e.expiryWarningAt);
          expect(warning.deadline).not.toBe(
            warning.rule === 'lifetime' ? w.lifetimeWarnedFor : w.idleWarnedFor,
          );
          // Strictly after the start of the deadline's clock, before any rule acts.
          expect(warning.at).toBeGreaterThan(
            warning.rule === 'lifetime' ? w.createdAt : w.lastActivityAt,
          );
          expect(warning.at).toBeLessThan(e.next?.at ?? Number.POSITIVE_INFINITY);
          expect(warning.deadline - warning.at).toBe(w.policy.expiryWarning);
          expect(e[RULE_FIELD[warning.rule]]).toBe(warning.deadline);
        }
        expect(nextDeadline(w)).toBe(minOf([e.next?.at ?? null, e.expiryWarningAt]));
      }),
    );
  });

  it('gives each rule a deadline exactly in the states it can act in', () => {
    fc.assert(
      fc.property(workerArb, (w) => {
        const e = explainDeadlines(w);
        const live = w.state === 'creating' || w.state === 'ready' || w.state === 'busy';
        const finished = w.state === 'terminated' || w.state === 'failed';
        expect(e.lifetimeAt !== null).toBe(live);
        expect(e.idleAt !== null).toBe(w.mode === 'agent' && w.state === 'ready');
        expect(e.startupAt !== null).toBe(w.state === 'creating');
        expect(e.forceRemoveAt !== null).toBe(w.state === 'terminating');
        expect(e.cleanupAt !== null).toBe(finished && w.policy.autoCleanupEnabled);
        if (!live || w.policy.expiryWarning === 0) expect(e.expiryWarningAt).toBeNull();
      }),
    );
  });
});
