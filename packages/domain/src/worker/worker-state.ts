import { err, ok, type Result } from 'neverthrow';

export const WORKER_STATES = [
  'creating',
  'ready',
  'busy',
  'terminating',
  'terminated',
  'failed',
] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

export const TERMINAL_STATES: readonly WorkerState[] = ['terminated', 'failed'];
export const isTerminal = (state: WorkerState): boolean =>
  state === 'terminated' || state === 'failed';

/** SPEC §3.3: where each state may go. Terminal states go nowhere; cleanup is not a state. */
export const TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  creating: ['ready', 'terminating', 'terminated', 'failed'],
  ready: ['busy', 'terminating', 'terminated', 'failed'],
  busy: ['ready', 'terminating', 'terminated', 'failed'],
  terminating: ['terminated', 'failed'],
  terminated: [],
  failed: [],
};

export interface InvalidTransition {
  readonly type: 'InvalidTransition';
  readonly from: WorkerState;
  readonly to: WorkerState;
}

export type TransitionCheck = 'change' | 'repeat';

/**
 * `change` when the move is allowed, `repeat` when the worker is already there (an idempotent
 * no-op: no event), `InvalidTransition` otherwise.
 */
export function checkTransition(
  from: WorkerState,
  to: WorkerState,
): Result<TransitionCheck, InvalidTransition> {
  if (from === to) return ok('repeat');
  return TRANSITIONS[from].includes(to)
    ? ok('change')
    : err({ type: 'InvalidTransition', from, to });
}
