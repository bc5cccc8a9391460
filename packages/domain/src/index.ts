// Worker model
export { parseProviderId, parseWorkerId } from './worker/ids.js';
export type { InvalidId, ProviderId, WorkerId } from './worker/ids.js';
export { isWorkerMode, READINESS_MODES, WORKER_MODES } from './worker/worker-mode.js';
export type { Readiness, WorkerMode } from './worker/worker-mode.js';
export {
  checkTransition,
  isTerminal,
  TERMINAL_STATES,
  TRANSITIONS,
  WORKER_STATES,
} from './worker/worker-state.js';
export type { InvalidTransition, TransitionCheck, WorkerState } from './worker/worker-state.js';
export { newWorker, transition } from './worker/worker.js';
export type { NewWorker, TransitionInput, TransitionOutcome, Worker } from './worker/worker.js';

// Policy
export { EphemeralWorkerPolicy } from './policy/ephemeral-worker-policy.js';
export { EphemeralWorkerPolicyBuilder } from './policy/policy-builder.js';
export { mergePolicy, OVERRIDABLE_FIELDS } from './policy/policy-override.js';
export type { OverridableField, PolicyOverride } from './policy/policy-override.js';
export { MAX_DURATION, POLICY_FIELDS, retentionOf, validatePolicy } from './policy/policy.js';
export type { OrphanAction, PolicyError, PolicyField } from './policy/policy.js';
export {
  DEFAULT_EXPIRY_WARNING,
  dockerProfile,
  kubernetesProfile,
  PROFILES,
} from './policy/profiles.js';
export type { ProfileName } from './policy/profiles.js';

// Events
export { ACTORS, CLEANUP_REASONS, TERMINATION_REASONS } from './events/reasons.js';
export type { Actor, CleanupReason, TerminationReason } from './events/reasons.js';
export {
  isLifecycleEventType,
  LIFECYCLE_EVENT_TYPES,
  STATE_OF_EVENT,
} from './events/lifecycle-event.js';
export type {
  ActivityMark,
  EventMeta,
  GarbageCollectionCompleted,
  PolicySnapshot,
  WorkerEphemeralExpiring,
  WorkerEphemeralPolicyChanged,
  LifecycleEvent,
  LifecycleEventType,
  OrphanReason,
  OrphanWorkerDetected,
  WorkerEphemeralBusy,
  WorkerEphemeralCleanedUp,
  WorkerEphemeralCreated,
  WorkerEphemeralFailed,
  WorkerEphemeralIdle,
  WorkerEphemeralReady,
  WorkerEphemeralTerminated,
  WorkerEphemeralTerminating,
  WorkerLost,
  WorkerRecovered,
} from './events/lifecycle-event.js';
export {
  CLOUD_EVENT_TYPE_PREFIX,
  eventSubject,
  eventData,
  fromCloudEvent,
  toCloudEvent,
} from './events/cloud-event.js';
export type { InvalidCloudEvent, LifecycleCloudEvent } from './events/cloud-event.js';
export { DEFAULT_GC_HEARTBEAT_MS, emptyGcStats, gcPassDidWork } from './events/gc-stats.js';
export type { GarbageCollectionStats, ReconcileStats } from './events/gc-stats.js';

// Ports
export type { Clock } from './ports/clock.port.js';
export type { IdGenerator } from './ports/id-generator.port.js';
export { silentLogger } from './ports/logger.port.js';
export type { LogFields, Logger } from './ports/logger.port.js';
export type { LifecycleEventPublisher, PublishError } from './ports/event-publisher.port.js';
export type {
  EventStoreError,
  WorkerEventHistory,
  WorkerLife,
  WorkerLifeRef,
} from './ports/event-store.port.js';
export { isOfLife, workerIdOfRef } from './ports/event-store.port.js';
export type {
  DestroyOptions,
  HealthStatus,
  LogLine,
  LogOptions,
  ManagedResource,
  PresentWorkerStatus,
  Problem,
  ProviderHealth,
  ProviderWatchEvent,
  WatchSubscription,
  WorkerHandle,
  WorkerProvider,
  WorkerProviderError,
  WorkerResources,
  WorkerSpec,
  WorkerStatus,
} from './ports/worker-provider.port.js';

// Provider ownership
export {
  isOwnedBy,
  OWNERSHIP_LABELS,
  ownershipEnv,
  ownershipLabels,
  parseOwnership,
  RESERVED_ENV_PREFIX,
  RESERVED_LABEL_PREFIX,
  reservedKeyProblems,
} from './provider/ownership.js';
export type { OwnershipError, OwnershipFacts } from './provider/ownership.js';

// Lifecycle manager and decorator
export { DEADLINE_PASS_MIN_GAP_MS, LifecycleManager } from './lifecycle/lifecycle-manager.js';
export type {
  LifecycleCounters,
  LifecycleManagerDeps,
  OperationContext,
  OrphanReport,
  PolicyChange,
  PolicyChangeOutcome,
  RecoveryOptions,
  RecoveryReport,
  TerminatedDetails,
  WorkerFilter,
  WorkerPageRequest,
} from './lifecycle/lifecycle-manager.js';
export type {
  LifecycleError,
  PolicyLimitExceeded,
  PolicyNotChangeable,
  WorkerNotLive,
  WorkerReplaced,
} from './lifecycle/lifecycle.errors.js';
export { policySnapshot } from './lifecycle/policy-changes.js';
export {
  dueRule,
  explainDeadlines,
  FORCE_REMOVE_MARGIN,
  nextDeadline,
} from './lifecycle/deadlines.js';
export type { DeadlineExplanation, DueRule } from './lifecycle/deadlines.js';
export { DeadlineIndex } from './lifecycle/deadline-index.js';
export {
  LifecycleManagedWorkerProvider,
  LifecycleManagedWorkerProviderBuilder,
} from './provider/lifecycle-managed-worker-provider.js';
export type {
  BuilderError,
  ManagedWorkerError,
} from './provider/lifecycle-managed-worker-provider.js';
export { simulateCommand } from './provider/simulated-command.js';
export type { SimulatedRun } from './provider/simulated-command.js';
export { wireLifecycle } from './provider/wire-lifecycle.js';
export type { ManagedLifecycle } from './provider/wire-lifecycle.js';
