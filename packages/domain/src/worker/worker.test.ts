import { describe, expect, it } from 'vitest';
import { dockerProfile } from '../policy/profiles.js';
import type { ProviderId, WorkerId } from './ids.js';
import { parseProviderId, parseWorkerId } from './ids.js';
import { newWorker, transition } from './worker.js';

const base = newWorker({
  id: 'w-1' as WorkerId,
  providerId: 'docker' as ProviderId,
  mode: 'agent',
  resourceId: 'r-1',
  image: 'img',
  policy: dockerProfile,
  createdAt: 1_000,
});

describe('worker ids', () => {
  it.each(['a', 'w-1', '0abc', 'a'.repeat(50), 'job-2025-01-01'])('accepts %s', (id) => {
    expect(parseWorkerId(id).isOk()).toBe(true);
    expect(parseProviderId(id).isOk()).toBe(true);
  });

  it.each(['', 'A', '-a', 'a-', 'a_b', 'a.b', 'a b', 'a'.repeat(51), 'hodei/../x'])(
    'rejects %j, naming the rule',
    (id) => {
      const result = parseWorkerId(id);
      expect(result.isErr()).toBe(true);
      expect(result._unsafeUnwrapErr()).toMatchObject({
        type: 'InvalidId',
        kind: 'WorkerId',
        value: id,
      });
      expect(result._unsafeUnwrapErr().message).toMatch(/at most|1 to 50/);
    },
  );

  it('rejects what is not a string', () => {
    expect(parseWorkerId(42).isErr()).toBe(true);
    expect(parseProviderId(undefined).isErr()).toBe(true);
  });
});

describe('transition', () => {
  it('records readiness and activity, keeping the first readyAt', () => {
    const ready = transition(base, { to: 'ready' }, 2_000)._unsafeUnwrap();
    expect(ready).toMatchObject({
      kind: 'changed',
      worker: { state: 'ready', readyAt: 2_000, lastActivityAt: 2_000 },
    });
    const busy = transition(ready.worker, { to: 'busy' }, 3_000)._unsafeUnwrap().worker;
    expect(busy).toMatchObject({ state: 'busy', readyAt: 2_000, lastActivityAt: 3_000 });
  });

  it('keeps the termination reason given when terminating, and the exit code when terminated', () => {
    const terminating = transition(
      base,
      { to: 'terminating', reason: 'IdleTimeout' },
      5_000,
    )._unsafeUnwrap().worker;
    const done = transition(
      terminating,
      { to: 'terminated', exitCode: 143, reason: 'JobCompleted' },
      6_000,
    )._unsafeUnwrap().worker;
    expect(done).toMatchObject({
      state: 'terminated',
      terminatingAt: 5_000,
      terminatedAt: 6_000,
      exitCode: 143,
      terminationReason: 'IdleTimeout',
    });
  });

  it('takes the end time the provider reports, never one in the future', () => {
    expect(
      transition(base, { to: 'terminated', exitCode: 0, at: 1_500 }, 9_000)._unsafeUnwrap().worker
        .terminatedAt,
    ).toBe(1_500);
    expect(
      transition(base, { to: 'terminated', exitCode: 0, at: 99_000 }, 9_000)._unsafeUnwrap().worker
        .terminatedAt,
    ).toBe(9_000);
  });

  it('sets terminatedAt and the error on failed', () => {
    const failed = transition(base, { to: 'failed', error: 'boom' }, 7_000)._unsafeUnwrap().worker;
    expect(failed).toMatchObject({
      state: 'failed',
      terminatedAt: 7_000,
      error: 'boom',
      terminationReason: 'ProviderError',
    });
  });

  it('returns the same worker for a repeat', () => {
    expect(transition(base, { to: 'creating' } as never, 1)._unsafeUnwrap()).toEqual({
      kind: 'repeat',
      worker: base,
    });
  });
});
