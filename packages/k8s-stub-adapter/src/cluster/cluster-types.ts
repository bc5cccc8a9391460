import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { SimulatedRun } from '@hodei/domain';

export type { IJob, IPod };
export type ObjectMeta = NonNullable<IPod['metadata']>;
export type ObjectKind = 'Job' | 'Pod';

/** A clock a test can move (`ManualClock` from `@hodei/domain/testing` is one). */
export interface SteppableClock {
  now(): number;
  advance(ms: number): void;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export type WatchEvent =
  | { readonly type: WatchEventType; readonly kind: 'Job'; readonly object: IJob }
  | { readonly type: WatchEventType; readonly kind: 'Pod'; readonly object: IPod };

export interface WatchOptions {
  readonly namespace?: string;
  /** `kubectl -l` syntax; everything when absent. */
  readonly labelSelector?: string;
}

export interface ListOptions {
  readonly labelSelector?: string;
}

/** A list in chunks, as the API server's `limit` and `continue` parameters ask. */
export interface ListPageOptions extends ListOptions {
  /** At most this many objects in the page; all that are left when absent or not positive. */
  readonly limit?: number;
  /** The previous page's `metadata.continue`: this page carries on from there. */
  readonly continue?: string;
}

/** The `metadata` of a list (a `ListMeta`). */
export interface ListMeta {
  /** The resource version the list was taken at: the same on every page of one list. */
  readonly resourceVersion: string;
  /** Present when more objects follow: pass it as `continue` to get the next page. */
  readonly continue?: string;
}

/** One page of a list: a `JobList` or a `PodList`. */
export interface ObjectList<T> {
  readonly metadata: ListMeta;
  readonly items: T[];
}

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  /** Overrides the pod's `terminationGracePeriodSeconds`; 0 removes at once (force). */
  readonly gracePeriodSeconds?: number;
  /** For Jobs; `Background` by default, as `kubectl delete`. */
  readonly propagationPolicy?: PropagationPolicy;
}

/** The mutable part of a Job spec (a merge patch). */
export interface JobSpecPatch {
  readonly activeDeadlineSeconds?: number;
  readonly suspend?: boolean;
}

/** The mutable part of a Pod spec: only `activeDeadlineSeconds` may be lowered. */
export interface PodSpecPatch {
  readonly activeDeadlineSeconds: number;
}

export type ApiVerb = 'create' | 'get' | 'list' | 'patch' | 'delete' | 'log';

export interface LogEntry {
  readonly at: number;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface PodLog {
  readonly lines: readonly LogEntry[];
  /** True once the container terminated (or the pod is gone): no more lines will come. */
  readonly finished: boolean;
}

/** A range of milliseconds, both ends included; the simulation draws from it. */
export interface MsRange {
  readonly min: number;
  readonly max: number;
}

export interface SimulatedClusterOptions {
  /** Seed of the random source: pod name suffixes, node choice, latencies, injected faults. */
  readonly seed?: number;
  /** Node names; three ready nodes by default. */
  readonly nodes?: readonly string[];
  /** Scheduling plus image pull: from creation to a running container. Default 500–1500 ms. */
  readonly startLatencyMs?: MsRange;
  /** How long a container takes to exit after SIGTERM. Default 1000 ms. */
  readonly shutdownMs?: number;
  /** From a node's loss to its pods being marked Failed (they are Unknown meanwhile). Default 40 s. */
  readonly nodeLostFailAfterMs?: number;
  /**
   * How often the API server compacts its history (`--etcd-compaction-interval`): a paged
   * list's continue token expires (410 Gone) once a compaction follows its first page.
   * Default 5 minutes.
   */
  readonly compactionIntervalMs?: number;
  /**
   * What a container does: its run time, exit code and output. The default reads the command
   * with `simulateCommand`, and a pod labelled `hodei.mode=agent` runs until deleted.
   */
  readonly workload?: (pod: IPod) => SimulatedRun;
}

export interface ApiFaultRates {
  /** Fraction of calls answered 500 InternalError, without effect. */
  readonly errorRate?: number;
  /** Fraction of calls answered 504 Timeout; a write may or may not have been applied. */
  readonly timeoutRate?: number;
  /** Verbs subject to the rates; all by default. */
  readonly verbs?: readonly ApiVerb[];
}
