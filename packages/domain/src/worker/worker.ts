import { err, ok, type Result } from 'neverthrow';
import type { TerminationReason } from '../events/reasons.js';
import type { EphemeralWorkerPolicy } from '../policy/policy.js';
import type { ProviderId, WorkerId } from './ids.js';
import type { Readiness, WorkerMode } from './worker-mode.js';
import { checkTransition, type InvalidTransition, type WorkerState } from './worker-state.js';

/** A tracked worker. Plain data; times are epoch milliseconds. */
export interface Worker {
  readonly id: WorkerId;
  readonly providerId: ProviderId;
  readonly mode: WorkerMode;
  readonly readiness: Readiness;
  readonly state: WorkerState;
  readonly resourceId: string;
  readonly image: string;
  readonly policy: EphemeralWorkerPolicy;
  readonly createdAt: number;
  readonly readyAt: number | null;
  /** Last ready/busy change or activity heartbeat; the idle clock. */
  readonly lastActivityAt: number;
  /** Who gave the last activity (a heartbeat's `by`, or the actor of the last ready/busy). */
  readonly lastActivityBy: string | null;
  /**
   * The lifetime deadline (epoch ms) the last WorkerEphemeralExpiring of rule `lifetime` warned
   * of; a deadline that moves is warned of again.
   */
  readonly lifetimeWarnedFor: number | null;
  /** The idle deadline (epoch ms) the last WorkerEphemeralExpiring of rule `idle` warned of. */
  readonly idleWarnedFor: number | null;
  readonly terminatingAt: number | null;
  /** Also set on `failed`. */
  readonly terminatedAt: number | null;
  readonly exitCode: number | null;
  readonly terminationReason: TerminationReason | null;
  readonly error: string | null;
}

export interface NewWorker {
  readonly id: WorkerId;
  readonly providerId: ProviderId;
  readonly mode: WorkerMode;
  readonly readiness?: Readiness;
  readonly resourceId: string;
  readonly image: string;
  readonly policy: EphemeralWorkerPolicy;
  readonly createdAt: number;
}

export const newWorker = (w: NewWorker): Worker => ({
  id: w.id,
  providerId: w.providerId,
  mode: w.mode,
  readiness: w.readiness ?? 'container',
  state: 'creating',
  resourceId: w.resourceId,
  image: w.image,
  policy: w.policy,
  createdAt: w.createdAt,
  readyAt: null,
  lastActivityAt: w.createdAt,
  lastActivityBy: null,
  lifetimeWarnedFor: null,
  idleWarnedFor: null,
  terminatingAt: null,
  terminatedAt: null,
  exitCode: null,
  terminationReason: null,
  error: null,
});

/** What a move to a state records besides the state itself. */
export type TransitionInput =
  | { readonly to: 'ready' }
  | { readonly to: 'busy' }
  | { readonly to: 'terminating'; readonly reason: TerminationReason }
  | {
      readonly to: 'terminated';
      readonly exitCode: number | null;
      readonly reason?: TerminationReason;
      /** When it really ended, if the provider knows (not after `now`); else `now`. */
      readonly at?: number | null;
    }
  | { readonly to: 'failed'; readonly error: string; readonly reason?: TerminationReason };

export type TransitionOutcome =
  | { readonly kind: 'changed'; readonly worker: Worker }
  | { readonly kind: 'repeat'; readonly worker: Worker };

/** Pure: the worker after the move at `now`, or why it cannot move. */
export function transition(
  worker: Worker,
  input: TransitionInput,
  now: number,
): Result<TransitionOutcome, InvalidTransition> {
  const check = checkTransition(worker.state, input.to);
  if (check.isErr()) return err(check.error);
  if (check.value === 'repeat') return ok({ kind: 'repeat', worker });
  const base = { ...worker, state: input.to };
  switch (input.to) {
    case 'ready':
      return ok({
        kind: 'changed',
        worker: { ...base, readyAt: worker.readyAt ?? now, lastActivityAt: now },
      });
    case 'busy':
      return ok({
        kind: 'changed',
        worker: { ...base, readyAt: worker.readyAt ?? now, lastActivityAt: now },
      });
    case 'terminating':
      return ok({
        kind: 'changed',
        worker: { ...base, terminatingAt: now, terminationReason: input.reason },
      });
    case 'terminated':
      return ok({
        kind: 'changed',
        worker: {
          ...base,
          terminatedAt: Math.min(input.at ?? now, now),
          exitCode: input.exitCode,
          terminationReason: worker.terminationReason ?? input.reason ?? null,
        },
      });
    case 'failed':
      return ok({
        kind: 'changed',
        worker: {
          ...base,
          terminatedAt: now,
          error: input.error,
          terminationReason: worker.terminationReason ?? input.reason ?? 'ProviderError',
        },
      });
  }
}
