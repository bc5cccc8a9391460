import { err, ok } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { checkTransition, WORKER_STATES, type WorkerState } from './worker-state.js';

// SPEC §3.3, row by row: the states each state may move to.
const allowed: Record<WorkerState, readonly WorkerState[]> = {
  creating: ['ready', 'terminating', 'terminated', 'failed'],
  ready: ['busy', 'terminating', 'terminated', 'failed'],
  busy: ['ready', 'terminating', 'terminated', 'failed'],
  terminating: ['terminated', 'failed'],
  terminated: [],
  failed: [],
};

const cases = WORKER_STATES.flatMap((from) =>
  WORKER_STATES.map((to) => ({
    from,
    to,
    expected: from === to ? 'repeat' : allowed[from].includes(to) ? 'change' : 'invalid',
  })),
);

describe('the transition table', () => {
  it.each(cases)('$from → $to is $expected', ({ from, to, expected }) => {
    const result = checkTransition(from, to);
    if (expected === 'invalid') {
      expect(result).toEqual(err({ type: 'InvalidTransition', from, to }));
    } else {
      expect(result).toEqual(ok(expected));
    }
  });

  it('lets terminal states go nowhere but stay where they are', () => {
    for (const to of WORKER_STATES) {
      if (to !== 'terminated') expect(checkTransition('terminated', to).isErr()).toBe(true);
      if (to !== 'failed') expect(checkTransition('failed', to).isErr()).toBe(true);
    }
  });
});
