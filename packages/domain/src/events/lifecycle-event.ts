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
  /**
   * The resource of this life of the worker (its incarnation): two lives under one reused
   * id carry different ones. Set on every event the manager emits; absent in older logs.
   */
  readonly resourceId?: string;
}

/** The worker's last activity (a ready/busy change or a heartbeat) and who gave it. */
export interface ActivityMark {
  /** ISO 8601 UTC. */
  readonly at: string;
  readonly by: string;
}

/** On a state event: the worker's last activity when it was known (older events lack it). */
interface WithActivity {
  readonly lastActivity?: ActivityMark;
}

/**
 * On an event the deadline pass caused: the deadline (ISO 8601 UTC) of the rule it applied,
 * for the reap lag (the event's time minus it). Older events and other actors' lack it.
 */
interface WithDeadline {
  readonly deadlineAt?: string;
}

/** The fields a worker may change at run time, in integer milliseconds (`null`: no retention). */
export interface PolicySnapshot {
  readonly maxLifetime: number;
  readonly ttlAfterCompletion: number | null;
  readonly idleTimeout: number;
  readonly gracefulTerminationTimeout: number;
  readonly startupTimeout: number;
  readonly expiryWarning: number;
}

export interface WorkerEphemeralCreated extends WorkerEventMeta {
  readonly type: 'WorkerEphemeralCreated';
  readonly mode: WorkerMode;
  readonly image: string;
  readonly resourceId: string;
  readonly maxLifetimeSecs: number;
  readonly ttlAfterCompletionSecs: number | null;
}
export interface WorkerEphemeralReady extends WorkerEventMeta, WithActivity {
  readonly type: 'WorkerEphemeralReady';
}
export interface WorkerEphemeralBusy extends WorkerEventMeta, WithActivity {
  readonly type: 'WorkerEphemeralBusy';
}
export interface WorkerEphemeralIdle extends WorkerEventMeta, WithActivity {
  readonly type: 'WorkerEphemeralIdle';
  readonly idleSince: string;
}
export interface WorkerEphemeralTerminating extends WorkerEventMeta, WithActivity, WithDeadline {
  readonly type: 'WorkerEphemeralTerminating';
  readonly reason: TerminationReason;
}
export interface WorkerEphemeralTerminated extends WorkerEventMeta, WithActivity, WithDeadline {
  readonly type: 'WorkerEphemeralTerminated';
  readonly exitCode: number | null;
  readonly forced: boolean;
  readonly cleanupScheduled: boolean;
  readonly ttlExpiresAt: string | null;
  /** Why it ended, when known (the worker's `terminationReason`); older events lack it. */
  readonly reason?: TerminationReason;
}
export interface WorkerEphemeralFailed extends WorkerEventMeta, WithActivity, WithDeadline {
  readonly type: 'WorkerEphemeralFailed';
  readonly error: string;
  /** Why it ended, when known (the worker's `terminationReason`); older events lack it. */
  readonly reason?: TerminationReason;
}
export interface WorkerEphemeralCleanedUp extends WorkerEventMeta, WithDeadline {
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
  /**
   * Why it is an orphan: no tracked worker claims it, its labels cannot be read (a missing
   * or corrupt policy label), or it is what a failed create left behind.
   */
  readonly reason?: OrphanReason;
  /** What was wrong, for `UnreadableLabels`. */
  readonly detail?: string;
}

export type OrphanReason = 'Untracked' | 'UnreadableLabels' | 'FailedCreate';
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
/** The worker's policy changed at run time (an extension); its deadlines follow at once. */
export interface WorkerEphemeralPolicyChanged extends WorkerEventMeta {
  readonly type: 'WorkerEphemeralPolicyChanged';
  readonly previous: PolicySnapshot;
  readonly current: PolicySnapshot;
  /** The fields whose value changed. */
  readonly changed: readonly (keyof PolicySnapshot)[];
}
/**
 * A lifetime or idle termination is near: `expiryWarning` before it, once per deadline, and
 * again when an extension or activity moves the deadline.
 */
export interface WorkerEphemeralExpiring extends WorkerEventMeta, WithActivity {
  readonly type: 'WorkerEphemeralExpiring';
  readonly rule: 'lifetime' | 'idle';
  /** The deadline, ISO 8601 UTC. */
  readonly at: string;
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
  | GarbageCollectionCompleted
  | WorkerEphemeralPolicyChanged
  | WorkerEphemeralExpiring;

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
  'WorkerEphemeralPolicyChanged',
  'WorkerEphemeralExpiring',
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
