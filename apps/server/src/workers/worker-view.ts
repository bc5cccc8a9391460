import {
  explainDeadlines,
  parseOwnership,
  type DueRule,
  type EphemeralWorkerPolicy,
  type ManagedResource,
  type ProviderId,
  type Worker,
  type WorkerMode,
  type WorkerState,
} from '@hodei/domain';

export interface PolicyView {
  readonly maxLifetimeSeconds: number;
  readonly ttlAfterCompletionSeconds: number | null;
  readonly idleTimeoutSeconds: number;
  readonly gracefulTerminationTimeoutSeconds: number;
  readonly startupTimeoutSeconds: number;
  readonly expiryWarningSeconds: number;
}

/** The last sign of life the idle clock counts from, and who gave it. */
export interface LastActivityView {
  readonly at: string;
  readonly by: string;
}

/**
 * Why and when the worker will stop (ISO times, `null` where a rule does not apply in its
 * state), from the maths the deadline pass acts on.
 */
export interface DeadlinesView {
  readonly lifetimeAt: string | null;
  readonly idleAt: string | null;
  readonly startupAt: string | null;
  readonly forceRemoveAt: string | null;
  readonly cleanupAt: string | null;
  readonly expiryWarningAt: string | null;
  readonly next: { readonly rule: DueRule; readonly at: string } | null;
}

/** The worker JSON of SPEC §8. */
export interface WorkerView {
  readonly id: string;
  readonly providerId: string;
  readonly mode: WorkerMode;
  readonly state: WorkerState;
  readonly resourceId: string;
  readonly image: string;
  readonly createdAt: string;
  readonly readyAt: string | null;
  readonly terminatedAt: string | null;
  readonly exitCode: number | null;
  readonly terminationReason: string | null;
  readonly policy: PolicyView;
  /** `null` without lifecycle management: nothing tracks it. */
  readonly lastActivity: LastActivityView | null;
  readonly deadlines: DeadlinesView;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const secs = (ms: number): number => Math.round(ms / 1000);

export const policyView = (p: EphemeralWorkerPolicy): PolicyView => ({
  maxLifetimeSeconds: secs(p.maxLifetime),
  ttlAfterCompletionSeconds: p.ttlAfterCompletion === null ? null : secs(p.ttlAfterCompletion),
  idleTimeoutSeconds: secs(p.idleTimeout),
  gracefulTerminationTimeoutSeconds: secs(p.gracefulTerminationTimeout),
  startupTimeoutSeconds: secs(p.startupTimeout),
  expiryWarningSeconds: secs(p.expiryWarning),
});

/** Without lifecycle management no deadline pass runs: no rule will stop the worker. */
const NO_DEADLINES: DeadlinesView = {
  lifetimeAt: null,
  idleAt: null,
  startupAt: null,
  forceRemoveAt: null,
  cleanupAt: null,
  expiryWarningAt: null,
  next: null,
};

function deadlinesView(w: Worker, now: number): DeadlinesView {
  // At `now`: no warning time is named once a rule is due.
  const d = explainDeadlines(w, now);
  return {
    lifetimeAt: iso(d.lifetimeAt),
    idleAt: iso(d.idleAt),
    startupAt: iso(d.startupAt),
    forceRemoveAt: iso(d.forceRemoveAt),
    cleanupAt: iso(d.cleanupAt),
    expiryWarningAt: iso(d.expiryWarningAt),
    next: d.next === null ? null : { rule: d.next.rule, at: new Date(d.next.at).toISOString() },
  };
}

/** A tracked worker's JSON; `now` (the service's clock) decides what is still ahead. */
export const workerView = (w: Worker, now: number): WorkerView => ({
  id: w.id,
  providerId: w.providerId,
  mode: w.mode,
  state: w.state,
  resourceId: w.resourceId,
  image: w.image,
  createdAt: new Date(w.createdAt).toISOString(),
  readyAt: iso(w.readyAt),
  terminatedAt: iso(w.terminatedAt),
  exitCode: w.exitCode,
  terminationReason: w.terminationReason,
  policy: policyView(w.policy),
  // As the state events carry it: who, or `unknown` (a worker recovered without history).
  lastActivity: { at: new Date(w.lastActivityAt).toISOString(), by: w.lastActivityBy ?? 'unknown' },
  deadlines: deadlinesView(w, now),
});

/** Without lifecycle management: what the provider alone can tell of a resource. */
export function resourceView(
  r: ManagedResource,
  providerId: ProviderId,
  fallbackPolicy: EphemeralWorkerPolicy,
): WorkerView | undefined {
  const facts = parseOwnership(r.labels, providerId);
  if (facts.isErr()) return undefined;
  const state: WorkerState =
    r.status.state === 'running'
      ? 'ready'
      : r.status.state === 'exited'
        ? 'terminated'
        : 'creating';
  return {
    id: facts.value.workerId,
    providerId,
    mode: facts.value.mode,
    state,
    resourceId: r.resourceId,
    image: r.image,
    createdAt: new Date(r.createdAt).toISOString(),
    readyAt: null,
    terminatedAt: r.status.state === 'exited' ? iso(r.status.finishedAt) : null,
    exitCode: r.status.state === 'exited' ? r.status.exitCode : null,
    terminationReason: null,
    policy: policyView(facts.value.policy ?? fallbackPolicy),
    lastActivity: null,
    deadlines: NO_DEADLINES,
  };
}
