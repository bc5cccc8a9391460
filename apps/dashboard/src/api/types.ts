import type { DueRule, WorkerMode, WorkerState } from '@hodei/domain';

/** The shapes of the server's JSON that the dashboard reads (apps/server/src/http/schemas.ts). */

// Types only from the domain: none of its code goes into the bundle.
export type { WorkerMode, WorkerState };
export type DeadlineRule = DueRule;

const LISTED_STATES = [
  'creating',
  'ready',
  'busy',
  'terminating',
  'terminated',
  'failed',
] as const satisfies readonly WorkerState[];

/** Every state, in the order of a worker's life: `never`, so no build, if the domain adds one. */
export const WORKER_STATES: Exclude<WorkerState, (typeof LISTED_STATES)[number]> extends never
  ? typeof LISTED_STATES
  : never = LISTED_STATES;

export interface Policy {
  readonly maxLifetimeSeconds: number;
  readonly ttlAfterCompletionSeconds: number | null;
  readonly idleTimeoutSeconds: number;
  readonly gracefulTerminationTimeoutSeconds: number;
  readonly startupTimeoutSeconds: number;
  readonly expiryWarningSeconds: number;
}

export interface Deadlines {
  readonly lifetimeAt: string | null;
  readonly idleAt: string | null;
  readonly startupAt: string | null;
  readonly forceRemoveAt: string | null;
  readonly cleanupAt: string | null;
  readonly expiryWarningAt: string | null;
  readonly next: { readonly rule: DeadlineRule; readonly at: string } | null;
}

export interface Worker {
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
  readonly policy: Policy;
  readonly lastActivity: { readonly at: string; readonly by: string } | null;
  readonly deadlines: Deadlines;
}

export interface WorkerPage {
  readonly items: readonly Worker[];
  readonly nextCursor: string | null;
}

/** A lifecycle event in the CloudEvents JSON format, as `/v1/events` and the history give it. */
export interface CloudEvent {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly subject?: string;
  readonly time: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly correlationid?: string;
  readonly actor?: string;
}

export interface WorkerHistory {
  readonly workerId: string;
  readonly events: readonly CloudEvent[];
}

export type StateCounts = Readonly<Record<WorkerState, number>>;

export interface FleetSummary {
  readonly total: number;
  readonly byState: StateCounts;
  readonly providers: readonly {
    readonly id: string;
    readonly lifecycle: boolean;
    readonly byState: StateCounts;
    readonly live: number;
  }[];
}

export interface LagFigures {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export interface DeadlineStats {
  readonly windowSeconds: number;
  readonly reapLag: Readonly<Record<DeadlineRule, LagFigures>>;
  readonly idleTail: LagFigures;
}

export interface Session {
  readonly csrfToken: string;
  readonly expiresAt: string;
}

export interface ApiErrorBody {
  readonly error: string;
  readonly message: string;
}
