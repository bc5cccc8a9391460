import { Job } from 'kubernetes-models/batch/v1/Job';
import { Pod } from 'kubernetes-models/v1/Pod';
import { err, ok, Result } from 'neverthrow';
import { clone, extend, meta } from './api-object.js';
import { apiError, notFound, type ApiCause, type ApiError } from './cluster-api.errors.js';
import type { IJob, IPod, ObjectMeta } from './cluster-types.js';
import type { ObjectStore } from './object-store.js';
import type { PodRuntimes } from './pod-runtime.js';
import { ValueSharing } from './value-sharing.js';

const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';

/** A pod created by someone else (an orphan or a foreign pod). */
export interface ForeignPodOptions {
  name?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  command?: string[];
  image?: string;
}

/**
 * What the API server does with a new object before storing it: schema validation, a
 * generated name, defaults, and for a Job the labels its controller selects pods by.
 */
export class ObjectAdmission {
  readonly #store: ObjectStore;
  readonly #runtimes: PodRuntimes;
  readonly #sharing = new ValueSharing();

  constructor(store: ObjectStore, runtimes: PodRuntimes) {
    this.#store = store;
    this.#runtimes = runtimes;
  }

  createJob(namespace: string, input: IJob): Result<IJob, ApiError> {
    const ns = this.#store.namespace(namespace);
    if (ns === undefined) return err(notFound('namespaces', namespace));
    const job: IJob = clone(input);
    // The model copies what it is given: validation never touches the stored object.
    const causes = validateModel(new Job(job));
    if (causes.length > 0)
      return err(apiError('Invalid', `Job "${input.metadata?.name ?? ''}" is invalid`, causes));
    const m = this.#store.newMeta(namespace, job.metadata ?? {}, 'Job');
    if (m.isErr()) return err(m.error);
    const name = m.value.name ?? '';
    if (ns.jobs.has(name))
      return err(apiError('AlreadyExists', `jobs.batch "${name}" already exists`));
    const uid = m.value.uid ?? '';
    job.metadata = m.value;
    const spec = (job.spec ??= { template: {} });
    spec.selector = { matchLabels: { [CONTROLLER_UID_LABEL]: uid } };
    const template = (spec.template.metadata ??= {});
    template.labels = extend(template.labels, {
      [CONTROLLER_UID_LABEL]: uid,
      [JOB_NAME_LABEL]: name,
      'controller-uid': uid,
      'job-name': name,
    });
    this.#shareJobValues(job);
    spec.backoffLimit ??= 6;
    job.status = {};
    this.#store.addJob(namespace, job);
    return ok(clone(job));
  }

  /** Also gives the pod its runtime: its start latency and what its container will do. */
  createPod(namespace: string, input: IPod): Result<IPod, ApiError> {
    return this.#admitPod(namespace, input, clone(input)).map(clone);
  }

  /**
   * As `createPod`, for a pod a controller built: the store keeps `pod` itself, and the stored
   * object is returned (not a copy): nothing leaves the API server.
   */
  createOwnedPod(namespace: string, pod: IPod): Result<IPod, ApiError> {
    return this.#admitPod(namespace, pod, pod);
  }

  /**
   * Validates and stores `pod` (`input` itself or its copy, owned by the store from now on)
   * under its final metadata.
   */
  #admitPod(namespace: string, input: IPod, pod: IPod): Result<IPod, ApiError> {
    const ns = this.#store.namespace(namespace);
    if (ns === undefined) return err(notFound('namespaces', namespace));
    const causes = validateModel(new Pod(pod));
    if (causes.length > 0)
      return err(apiError('Invalid', `Pod "${input.metadata?.name ?? ''}" is invalid`, causes));
    const m = this.#store.newMeta(namespace, pod.metadata ?? {}, 'Pod');
    if (m.isErr()) return err(m.error);
    const name = m.value.name ?? '';
    if (ns.pods.has(name)) return err(apiError('AlreadyExists', `pods "${name}" already exists`));
    pod.metadata = m.value;
    if (input !== pod)
      for (const values of [m.value.labels, m.value.annotations]) this.#sharing.strings(values);
    const spec = (pod.spec ??= { containers: [] });
    spec.terminationGracePeriodSeconds ??= 30;
    pod.status = { phase: 'Pending', qosClass: qosClassOf(pod) };
    this.#runtimes.create(m.value.uid ?? '', pod);
    this.#store.addPod(namespace, pod);
    return ok(pod);
  }

  /**
   * Keeps once what a new Job has equal to the Job before it: label and annotation values,
   * annotations, and the parts of its pod template's spec (never changed once stored).
   */
  #shareJobValues(job: IJob): void {
    const m = meta(job);
    const template = job.spec?.template;
    for (const values of [m.labels, m.annotations, template?.metadata?.labels])
      this.#sharing.strings(values);
    if (m.annotations !== undefined)
      m.annotations = this.#sharing.tree('annotations', m.annotations);
    const t = template?.metadata;
    if (t?.annotations !== undefined)
      t.annotations = this.#sharing.tree('annotations', t.annotations);
    if (template?.spec !== undefined) this.#sharing.treesBelow(template.spec, 'template.spec');
  }
}

/** The manifest of a bare pod made outside any controller. */
export function foreignPod(options: ForeignPodOptions): IPod {
  const m: ObjectMeta =
    options.name === undefined ? { generateName: 'foreign-' } : { name: options.name };
  if (options.labels !== undefined) m.labels = { ...options.labels };
  if (options.annotations !== undefined) m.annotations = { ...options.annotations };
  const container: NonNullable<IPod['spec']>['containers'][number] = {
    name: 'main',
    image: options.image ?? 'busybox:1.36',
  };
  if (options.command !== undefined) container.command = options.command;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: m,
    spec: { restartPolicy: 'Never', containers: [container] },
  };
}

const validateModel = (model: { validate(): void }): readonly ApiCause[] => {
  const run = Result.fromThrowable(
    () => model.validate(),
    (e) => e,
  );
  const result = run();
  if (result.isOk()) return [];
  const failure = result.error as { errors?: { instancePath?: string; message?: string }[] };
  const errors = Array.isArray(failure.errors) ? failure.errors : [];
  if (errors.length === 0) return [{ field: '', message: String(result.error) }];
  return errors.map((e) => ({
    field: (e.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.'),
    message: e.message ?? 'invalid',
  }));
};

/** Guaranteed when every container's requests equal its CPU and memory limits. */
function qosClassOf(pod: IPod): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const containers = pod.spec?.containers ?? [];
  const resources = containers.map((c) => c.resources ?? {});
  if (resources.every((r) => r.limits === undefined && r.requests === undefined))
    return 'BestEffort';
  const guaranteed = resources.every(
    (r) =>
      r.limits?.['cpu'] !== undefined &&
      r.limits['memory'] !== undefined &&
      String(r.requests?.['cpu'] ?? r.limits['cpu']) === String(r.limits['cpu']) &&
      String(r.requests?.['memory'] ?? r.limits['memory']) === String(r.limits['memory']),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
