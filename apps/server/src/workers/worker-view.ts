import {
  parseOwnership,
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
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const secs = (ms: number): number => Math.round(ms / 1000);

export const policyView = (p: EphemeralWorkerPolicy): PolicyView => ({
  maxLifetimeSeconds: secs(p.maxLifetime),
  ttlAfterCompletionSeconds: p.ttlAfterCompletion === null ? null : secs(p.ttlAfterCompletion),
  idleTimeoutSeconds: secs(p.idleTimeout),
  gracefulTerminationTimeoutSeconds: secs(p.gracefulTerminationTimeout),
  startupTimeoutSeconds: secs(p.startupTimeout),
});

export const workerView = (w: Worker): WorkerView => ({
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
  };
}
