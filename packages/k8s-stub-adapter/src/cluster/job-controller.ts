import { extend, finishedCondition, iso, ms, TERMINAL } from './api-object.js';
import type { IJob, IPod, ObjectMeta } from './cluster-types.js';
import type { ObjectAdmission } from './object-admission.js';
import type { ObjectStore } from './object-store.js';
import type { PodDeletion } from './pod-deletion.js';
import { TimerQueue } from './timer-queue.js';

/** What the Job controller remembers of a Job's pods (the API keeps it in pod finalizers). */
interface JobRuntime {
  /** Names of the pods it made that it has not seen go (one, mostly: no Set needed). */
  readonly pods: string[];
  vanished: number;
}

/**
 * One pod per Job (completions 1), retried up to backoffLimit; deadlines; suspension.
 * It visits only the Jobs that may have something to do: those changed (or whose pods
 * changed) since its last pass, those its last pass acted on, and those whose deadline came.
 */
export class JobController {
  readonly #store: ObjectStore;
  readonly #admission: ObjectAdmission;
  readonly #deletion: PodDeletion;
  readonly #runtimes = new Map<string, JobRuntime>();
  /** Uids of the Jobs to visit on the next pass. */
  #dirty = new Set<string>();
  /** Uids of Jobs by the time their active deadline passes. */
  readonly #deadlines = new TimerQueue<string>();

  constructor(store: ObjectStore, admission: ObjectAdmission, deletion: PodDeletion) {
    this.#store = store;
    this.#admission = admission;
    this.#deletion = deletion;
  }

  /** Drops what it remembers of a removed Job. */
  forget(uid: string): void {
    this.#runtimes.delete(uid);
  }

  jobChanged(job: IJob): void {
    this.#dirty.add(job.metadata?.uid ?? '');
  }

  /** A change to a pod is one to each of its owners. */
  podChanged(pod: IPod): void {
    for (const ref of pod.metadata?.ownerReferences ?? []) this.#dirty.add(ref.uid);
  }

  run(now: number): boolean {
    let changed = false;
    for (const uid of this.#deadlines.popDue(now)) this.#dirty.add(uid);
    const due = this.#dirty;
    this.#dirty = new Set();
    const jobs: IJob[] = [];
    for (const uid of due) {
      const job = this.#store.jobByUid(uid);
      if (job !== undefined) jobs.push(job);
    }
    for (const job of jobs.sort(this.#store.order)) {
      const version = this.#store.resourceVersion;
      const visit = this.#visit(job, now);
      changed = visit.touched || changed;
      // A pass that did anything is looked at again; one that did nothing is not, until a
      // change or the deadline: a pass over an unchanged Job does nothing again.
      if (visit.acted || this.#store.resourceVersion !== version)
        this.#dirty.add(job.metadata?.uid ?? '');
      else this.#wakeAtDeadline(job);
    }
    if (this.#deadlines.size > 2 * this.#runtimes.size + 1_024) {
      const seen = new Set<string>();
      this.#deadlines.compact((_, uid) => {
        const keep = !seen.has(uid) && this.#store.jobByUid(uid) !== undefined;
        seen.add(uid);
        return keep;
      });
    }
    return changed;
  }

  /** One Job's pass; `touched` when its status changed, `acted` when it tried a pod. */
  #visit(job: IJob, now: number): { touched: boolean; acted: boolean } {
    const namespace = job.metadata?.namespace ?? '';
    const spec = job.spec;
    const status = (job.status ??= {});
    if (spec === undefined || job.metadata?.deletionTimestamp !== undefined)
      return { touched: false, acted: false };
    if (finishedCondition(job) !== undefined) return { touched: false, acted: false };
    const pods = this.#store.podsOwnedBy(job.metadata?.uid ?? '');
    const active = pods.filter(
      (p) =>
        !TERMINAL.includes(p.status?.phase ?? '') && p.metadata?.deletionTimestamp === undefined,
    );
    const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded');
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    // A pod that vanished while active counts as failed (pod-tracking finalizers).
    const tracking = this.#runtimeOf(job);
    const present = new Set(pods.map((p) => p.metadata?.name ?? ''));
    for (const name of [...tracking.pods]) {
      if (!present.has(name)) {
        tracking.pods.splice(tracking.pods.indexOf(name), 1);
        tracking.vanished += 1;
      }
    }
    const failed = failedPods.length + tracking.vanished;
    const before = statusFields(status);
    status.active = active.length;
    status.succeeded = succeeded.length;
    status.failed = failed;
    status.startTime ??= iso(now);
    const startedAt = ms(status.startTime);
    const deadline = spec.activeDeadlineSeconds;
    const lastFinish = Math.max(
      0,
      ...[...succeeded, ...failedPods].map((p) => finishedAtOf(p) ?? now),
    );
    let acted = false;
    if (succeeded.length > 0) {
      finishJob(job, 'Complete', 'CompletionsReached', lastFinish || now);
    } else if (
      deadline !== undefined &&
      startedAt !== null &&
      now >= startedAt + deadline * 1_000
    ) {
      for (const pod of active) this.#deletion.request(namespace, pod, undefined);
      finishJob(job, 'Failed', 'DeadlineExceeded', startedAt + deadline * 1_000);
    } else if (failed > (spec.backoffLimit ?? 6)) {
      finishJob(job, 'Failed', 'BackoffLimitExceeded', lastFinish || now);
    } else if (spec.suspend === true) {
      for (const pod of active) this.#deletion.request(namespace, pod, undefined);
    } else if (
      active.length === 0 &&
      pods.every(
        (p) =>
          p.metadata?.deletionTimestamp === undefined || TERMINAL.includes(p.status?.phase ?? ''),
      )
    ) {
      acted = true;
      const created = this.#admission.createOwnedPod(namespace, podFromTemplate(job));
      if (created.isOk()) {
        const name = created.value.metadata?.name ?? '';
        if (!tracking.pods.includes(name)) tracking.pods.push(name);
        status.active = 1;
      }
    }
    const touched = !sameStatus(before, statusFields(status));
    if (touched) this.#store.touch('Job', job, 'MODIFIED');
    return { touched, acted };
  }

  #wakeAtDeadline(job: IJob): void {
    const deadline = job.spec?.activeDeadlineSeconds;
    const startedAt = ms(job.status?.startTime);
    if (deadline === undefined || startedAt === null || finishedCondition(job) !== undefined)
      return;
    this.#deadlines.push(startedAt + deadline * 1_000, job.metadata?.uid ?? '');
  }

  #runtimeOf(job: IJob): JobRuntime {
    const uid = job.metadata?.uid ?? '';
    let runtime = this.#runtimes.get(uid);
    if (runtime === undefined) {
      runtime = { pods: [], vanished: 0 };
      this.#runtimes.set(uid, runtime);
    }
    return runtime;
  }
}

type JobStatus = NonNullable<IJob['status']>;

/** The status fields a pass writes; it changed when one of them did. */
const statusFields = (s: JobStatus): unknown[] => [
  s.active,
  s.succeeded,
  s.failed,
  s.startTime,
  s.completionTime,
  s.conditions,
];

const sameStatus = (a: readonly unknown[], b: readonly unknown[]): boolean =>
  a.every((v, i) => v === b[i]);

function finishJob(job: IJob, type: 'Complete' | 'Failed', reason: string, at: number): void {
  const status = (job.status ??= {});
  status.conditions = [
    ...(status.conditions ?? []),
    { type, status: 'True', reason, lastProbeTime: iso(at), lastTransitionTime: iso(at) },
  ];
  if (type === 'Complete') status.completionTime = iso(at);
  status.active = 0;
}

function finishedAtOf(pod: IPod): number | null {
  return ms(pod.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt);
}

/**
 * The pod a Job runs, from its template. Its labels, annotations and containers are the
 * template's own objects, not copies: the store never changes them, and whatever leaves the
 * store is a copy. Only what a pod changes (its metadata and spec) is its own.
 */
function podFromTemplate(job: IJob): IPod {
  const template = job.spec?.template ?? {};
  const name = job.metadata?.name ?? 'job';
  const m: ObjectMeta = extend(template.metadata, {
    generateName: `${name}-`,
    ownerReferences: [
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name,
        uid: job.metadata?.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: m,
    spec: extend(template.spec ?? { containers: [] }, {}),
  };
}
