import type { WorkerMode } from '../worker/worker-mode.js';
import type { WorkerState } from '../worker/worker-state.js';
import type { GarbageCollectionStats } from './gc-stats.js';
import type { Actor, CleanupReason, TerminationReason } from './reasons.js';

/** Fields every event carries (SPEC §3.6). Times are ISO 8601 UTC strings. */
export interface EventMeta {
  readonly eventId: string;
  readonly occurredAt: string;
  readonly providerId: string;
  readonly correlationId?: string;
  readonly actor?: Actor;
}

interface WorkerEventMeta extends EventMeta {
  readonly workerId: string;
}

export interface WorkerEphemeralCreated extends WorkerEventMeta {
  readonly type: 'WorkerEphemeralCreated';
  readonly mode: WorkerMode;
  readonly image: string;
  readonly resourceId: string;
  readonly maxLifetimeSecs: number;
  readonly ttlAfterCompletionSecs: number | null;
}
export interface WorkerEphemeralReady extends WorkerEventMeta {
  readonly type: 'WorkerEphemeralReady';
}
export interface WorkerEphemeralBusy extends WorkerEventMeta {
  readonly type: 'WorkerEphemeralBusy';
}
export interface WorkerEphemeralIdle extends WorkerEventMeta {
  readonly type: 'WorkerEphemeralIdle';
  readonly idleSince: string;
}
export interface WorkerEphemeralTerminating extends WorkerEventMeta {
  readonly type: 'WorkerEphemeralTerminating';
  readonly reason: TerminationReason;
}
export interface WorkerEphemeralTerminated extends WorkerEventMeta {
  readonly type: 'WorkerEphemeralTerminated';
  readonly exitCode: number | null;
  readonly forced: boolean;
  readonly cleanupScheduled: boolean;
  readonly ttlExpiresAt: string | null;
  /** Why it ended, when known (the worker's `terminationReason`); older events lack it. */
  readonly reason?: TerminationReason;
}
export interface WorkerEphemeralFailed extends WorkerEventMeta {
  readonly type: 'WorkerEphemeralFailed';
  readonly error: string;
  /** Why it ended, when known (the worker's `terminationReason`); older events lack it. */
  readonly reason?: TerminationReason;
}
export interface WorkerEphemeralCleanedUp extends WorkerEventMeta {
  readonly type: 'WorkerEphemeralCleanedUp';
  readonly cleanupReason: CleanupReason;
  readonly cleanupDurationMs: number;
}
export interface OrphanWorkerDetected extends EventMeta {
  readonly type: 'OrphanWorkerDetected';
  /** The worker id its labels claim, when they name one. */
  readonly workerId?: string;
  readonly resourceId: string;
  readonly lastSeen: string;
  readonly orphanedDurationSecs: number;
  readonly action: 'reported' | 'removed';
}
export interface WorkerLost extends WorkerEventMeta {
  readonly type: 'WorkerLost';
  readonly resourceId: string;
  readonly lastKnownState: WorkerState;
}
export interface WorkerRecovered extends WorkerEventMeta {
  readonly type: 'WorkerRecovered';
  readonly resourceId: string;
  readonly recoveredState: WorkerState;
}
export interface GarbageCollectionCompleted extends EventMeta, GarbageCollectionStats {
  readonly type: 'GarbageCollectionCompleted';
}

export type LifecycleEvent =
  | WorkerEphemeralCreated
  | WorkerEphemeralReady
  | WorkerEphemeralBusy
  | WorkerEphemeralIdle
  | WorkerEphemeralTerminating
  | WorkerEphemeralTerminated
  | WorkerEphemeralFailed
  | WorkerEphemeralCleanedUp
  | OrphanWorkerDetected
  | WorkerLost
  | WorkerRecovered
  | GarbageCollectionCompleted;

export type LifecycleEventType = LifecycleEvent['type'];

/** The public contract: never rename, only add. */
export const LIFECYCLE_EVENT_TYPES = [
  'WorkerEphemeralCreated',
  'WorkerEphemeralReady',
  'WorkerEphemeralBusy',
  'WorkerEphemeralIdle',
  'WorkerEphemeralTerminating',
  'WorkerEphemeralTerminated',
  'WorkerEphemeralFailed',
  'WorkerEphemeralCleanedUp',
  'OrphanWorkerDetected',
  'WorkerLost',
  'WorkerRecovered',
  'GarbageCollectionCompleted',
] as const satisfies readonly LifecycleEventType[];

export const isLifecycleEventType = (value: unknown): value is LifecycleEventType =>
  (LIFECYCLE_EVENT_TYPES as readonly unknown[]).includes(value);

/** Events that move a worker's state, in the order a worker's life emits them. */
export const STATE_OF_EVENT: Partial<Record<LifecycleEventType, WorkerState>> = {
  WorkerEphemeralCreated: 'creating',
  WorkerEphemeralReady: 'ready',
  WorkerEphemeralBusy: 'busy',
  WorkerEphemeralTerminating: 'terminating',
  WorkerEphemeralTerminated: 'terminated',
  WorkerEphemeralFailed: 'failed',
};
