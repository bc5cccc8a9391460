import { clone, finishedCondition, iso, ms, TERMINAL } from './api-object.js';
import type { IJob, IPod, ObjectMeta } from './cluster-types.js';
import type { ObjectAdmission } from './object-admission.js';
import type { ObjectStore } from './object-store.js';
import type { PodDeletion } from './pod-deletion.js';

/** What the Job controller remembers of a Job's pods (the API keeps it in pod finalizers). */
interface JobRuntime {
  readonly pods: Set<string>;
  vanished: number;
}

/** One pod per Job (completions 1), retried up to backoffLimit; deadlines; suspension. */
export class JobController {
  readonly #store: ObjectStore;
  readonly #admission: ObjectAdmission;
  readonly #deletion: PodDeletion;
  readonly #runtimes = new Map<string, JobRuntime>();

  constructor(store: ObjectStore, admission: ObjectAdmission, deletion: PodDeletion) {
    this.#store = store;
    this.#admission = admission;
    this.#deletion = deletion;
  }

  /** Drops what it remembers of a removed Job. */
  forget(uid: string): void {
    this.#runtimes.delete(uid);
  }

  run(now: number): boolean {
    let changed = false;
    const byOwner = this.#store.podsByOwner();
    for (const { namespace, job } of this.#store.allJobsLive()) {
      const spec = job.spec;
      const status = (job.status ??= {});
      if (spec === undefined || job.metadata?.deletionTimestamp !== undefined) continue;
      if (finishedCondition(job) !== undefined) continue;
      const pods = byOwner.get(job.metadata?.uid ?? '') ?? [];
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
          tracking.pods.delete(name);
          tracking.vanished += 1;
        }
      }
      const failed = failedPods.length + tracking.vanished;
      const before = JSON.stringify(status);
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
        const created = this.#admission.createPod(namespace, podFromTemplate(job));
        if (created.isOk()) {
          tracking.pods.add(created.value.metadata?.name ?? '');
          status.active = 1;
        }
      }
      if (JSON.stringify(status) !== before) {
        this.#store.touch('Job', job, 'MODIFIED');
        changed = true;
      }
    }
    return changed;
  }

  #runtimeOf(job: IJob): JobRuntime {
    const uid = job.metadata?.uid ?? '';
    let runtime = this.#runtimes.get(uid);
    if (runtime === undefined) {
      runtime = { pods: new Set(), vanished: 0 };
      this.#runtimes.set(uid, runtime);
    }
    return runtime;
  }
}

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

function podFromTemplate(job: IJob): IPod {
  const template = job.spec?.template ?? {};
  const name = job.metadata?.name ?? 'job';
  const m: ObjectMeta = {
    ...clone(template.metadata ?? {}),
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
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: m,
    spec: clone(template.spec ?? { containers: [] }),
  };
}
