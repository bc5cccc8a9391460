import type { Clock } from '@hodei/domain';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Pod } from 'kubernetes-models/v1/Pod';
import { err, ok, Result } from 'neverthrow';
import { apiError, notFound, type ApiCause, type ApiError } from './cluster-api.errors.js';
import type {
  ApiFaultRates,
  ApiVerb,
  DeleteOptions,
  IJob,
  IPod,
  JobSpecPatch,
  ListOptions,
  LogEntry,
  MsRange,
  ObjectMeta,
  PodLog,
  PodSpecPatch,
  SimulatedClusterOptions,
  SteppableClock,
  WatchEvent,
  WatchEventType,
  WatchOptions,
} from './cluster-types.js';
import { matchesSelector, parseLabelSelector, type LabelSelector } from './label-selector.js';
import { SeededRandom } from './seeded-random.js';
import { simulateCommand, type SimulatedRun } from '@hodei/domain';

interface Kill {
  /** When the container is told to stop (SIGTERM). */
  readonly at: number;
  readonly reason: 'DeadlineExceeded' | 'Deleted';
  readonly graceMs: number;
}

/** What the simulated kubelet knows about a pod and the API does not show. */
interface PodRuntime {
  readonly run: SimulatedRun;
  readonly latencyMs: number;
  startAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  kill: Kill | null;
  stuckTerminating: boolean;
  ignoresSigterm: boolean;
  logs: LogEntry[];
}

type PodEvent =
  | { readonly kind: 'start' | 'exit' | 'killed'; readonly at: number }
  | { readonly kind: 'signal'; readonly at: number; readonly kill: Kill };

/** What the Job controller remembers of a Job's pods (the API keeps it in pod finalizers). */
interface JobRuntime {
  readonly pods: Set<string>;
  vanished: number;
}

interface NodeState {
  readonly name: string;
  lostAt: number | null;
}

interface Namespace {
  readonly jobs: Map<string, IJob>;
  readonly pods: Map<string, IPod>;
}

interface Listener {
  readonly namespace: string | undefined;
  readonly selector: LabelSelector;
  readonly fn: (event: WatchEvent) => void;
}

const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const FOREGROUND = 'foregroundDeletion';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const TERMINAL: readonly string[] = ['Succeeded', 'Failed'];

const iso = (ms: number): string => new Date(ms).toISOString();
const ms = (time: string | undefined): number | null => {
  if (time === undefined) return null;
  const parsed = Date.parse(time);
  return Number.isNaN(parsed) ? null : parsed;
};
const clone = <T>(value: T): T => structuredClone(value);
const meta = (o: { metadata?: ObjectMeta }): ObjectMeta => (o.metadata ??= {});

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

/**
 * An in-memory Kubernetes API server with the controllers a worker provider relies on: a
 * scheduler, a kubelet per node, the Job controller, the TTL-after-finished controller and the
 * garbage collector. Nothing moves until `tick()`, which applies everything due at the clock's
 * time, with exact timestamps; a seed makes every run the same.
 */
export class SimulatedCluster {
  readonly #clock: Clock;
  readonly #random: SeededRandom;
  readonly #namespaces = new Map<string, Namespace>();
  readonly #nodes: NodeState[];
  readonly #runtimes = new Map<string, PodRuntime>();
  readonly #jobRuntimes = new Map<string, JobRuntime>();
  readonly #listeners = new Set<Listener>();
  readonly #startLatency: MsRange;
  readonly #shutdownMs: number;
  readonly #nodeLostFailAfterMs: number;
  readonly #workload: (pod: IPod) => SimulatedRun;
  #resourceVersion = 0;
  #uid = 0;
  #reachable = true;
  #rates: Required<ApiFaultRates> = { errorRate: 0, timeoutRate: 0, verbs: [] };
  readonly #failNext: { verb: ApiVerb | undefined; error: ApiError }[] = [];
  /** Every API call, by verb: tests read it. */
  readonly calls: Record<ApiVerb, number> = {
    create: 0,
    get: 0,
    list: 0,
    patch: 0,
    delete: 0,
    log: 0,
  };
  /** Every injected API failure, in order, and whether a timed-out write took effect. */
  readonly injectedFaults: { verb: ApiVerb; reason: string; applied: boolean }[] = [];

  constructor(clock: Clock, options: SimulatedClusterOptions = {}) {
    this.#clock = clock;
    this.#random = new SeededRandom(options.seed ?? 1);
    this.#nodes = (options.nodes ?? ['node-a', 'node-b', 'node-c']).map((name) => ({
      name,
      lostAt: null,
    }));
    this.#startLatency = options.startLatencyMs ?? { min: 500, max: 1_500 };
    this.#shutdownMs = options.shutdownMs ?? 1_000;
    this.#nodeLostFailAfterMs = options.nodeLostFailAfterMs ?? 40_000;
    this.#workload = options.workload ?? defaultWorkload;
    for (const name of ['default', 'kube-system']) this.#namespaces.set(name, emptyNamespace());
  }

  get clock(): Clock {
    return this.#clock;
  }

  now(): number {
    return this.#clock.now();
  }

  // ---------------------------------------------------------------- the API (faults apply)

  createNamespace(name: string): Result<string, ApiError> {
    return this.#call('create', () => {
      if (!DNS_LABEL.test(name) || name.length > 63)
        return err(apiError('Invalid', `Namespace "${name}" is invalid`));
      if (this.#namespaces.has(name))
        return err(apiError('AlreadyExists', `namespaces "${name}" already exists`));
      this.#namespaces.set(name, emptyNamespace());
      return ok(name);
    });
  }

  listNamespaces(): Result<string[], ApiError> {
    return this.#call('list', () => ok([...this.#namespaces.keys()]));
  }

  createJob(namespace: string, job: IJob): Result<IJob, ApiError> {
    return this.#call('create', () => this.#createJob(namespace, job));
  }

  getJob(namespace: string, name: string): Result<IJob, ApiError> {
    return this.#call('get', () => {
      const job = this.#ns(namespace)?.jobs.get(name);
      return job === undefined ? err(notFound('jobs.batch', name)) : ok(clone(job));
    });
  }

  listJobs(namespace: string, options: ListOptions = {}): Result<IJob[], ApiError> {
    return this.#call('list', () => this.#list(namespace, options, (ns) => [...ns.jobs.values()]));
  }

  patchJob(namespace: string, name: string, patch: JobSpecPatch): Result<IJob, ApiError> {
    return this.#call('patch', () => {
      const job = this.#ns(namespace)?.jobs.get(name);
      if (job === undefined) return err(notFound('jobs.batch', name));
      const spec = (job.spec ??= { template: {} });
      if (patch.activeDeadlineSeconds !== undefined) {
        if (!Number.isInteger(patch.activeDeadlineSeconds) || patch.activeDeadlineSeconds < 1)
          return err(
            apiError('Invalid', `Job "${name}" is invalid`, [
              { field: 'spec.activeDeadlineSeconds', message: 'must be greater than 0' },
            ]),
          );
        spec.activeDeadlineSeconds = patch.activeDeadlineSeconds;
      }
      if (patch.suspend !== undefined) spec.suspend = patch.suspend;
      this.#touch('Job', job, 'MODIFIED');
      return ok(clone(job));
    });
  }

  /** Deletes a Job; its pods follow as `propagationPolicy` says (Background by default). */
  deleteJob(namespace: string, name: string, options: DeleteOptions = {}): Result<void, ApiError> {
    return this.#call('delete', () => {
      const ns = this.#ns(namespace);
      const job = ns?.jobs.get(name);
      if (ns === undefined || job === undefined) return err(notFound('jobs.batch', name));
      const policy = options.propagationPolicy ?? 'Background';
      if (policy === 'Foreground') {
        const m = meta(job);
        if (m.deletionTimestamp === undefined) {
          m.deletionTimestamp = iso(this.now());
          m.finalizers = [...(m.finalizers ?? []), FOREGROUND];
          this.#touch('Job', job, 'MODIFIED');
        }
        return ok(undefined);
      }
      if (policy === 'Orphan') {
        for (const pod of this.#podsOf(namespace, job)) {
          const m = meta(pod);
          m.ownerReferences = (m.ownerReferences ?? []).filter((r) => r.uid !== meta(job).uid);
          this.#touch('Pod', pod, 'MODIFIED');
        }
      }
      this.#remove('Job', namespace, job);
      return ok(undefined);
    });
  }

  createPod(namespace: string, pod: IPod): Result<IPod, ApiError> {
    return this.#call('create', () => this.#createPod(namespace, pod));
  }

  getPod(namespace: string, name: string): Result<IPod, ApiError> {
    return this.#call('get', () => {
      const pod = this.#ns(namespace)?.pods.get(name);
      return pod === undefined ? err(notFound('pods', name)) : ok(clone(pod));
    });
  }

  listPods(namespace: string, options: ListOptions = {}): Result<IPod[], ApiError> {
    return this.#call('list', () => this.#list(namespace, options, (ns) => [...ns.pods.values()]));
  }

  /** Lowers (or sets) a pod's `activeDeadlineSeconds`, the one spec field a pod lets us change. */
  patchPod(namespace: string, name: string, patch: PodSpecPatch): Result<IPod, ApiError> {
    return this.#call('patch', () => {
      const pod = this.#ns(namespace)?.pods.get(name);
      if (pod === undefined) return err(notFound('pods', name));
      const spec = (pod.spec ??= { containers: [] });
      const current = spec.activeDeadlineSeconds;
      const next = patch.activeDeadlineSeconds;
      if (!Number.isInteger(next) || next < 1 || (current !== undefined && next > current))
        return err(
          apiError('Invalid', `Pod "${name}" is invalid`, [
            {
              field: 'spec.activeDeadlineSeconds',
              message: 'must be a positive integer no greater than the current value',
            },
          ]),
        );
      spec.activeDeadlineSeconds = next;
      this.#touch('Pod', pod, 'MODIFIED');
      return ok(clone(pod));
    });
  }

  /** Graceful deletion: Terminating for up to the grace period, then gone. Grace 0 forces. */
  deletePod(namespace: string, name: string, options: DeleteOptions = {}): Result<void, ApiError> {
    return this.#call('delete', () => {
      const pod = this.#ns(namespace)?.pods.get(name);
      if (pod === undefined) return err(notFound('pods', name));
      this.#deletePod(namespace, pod, options.gracePeriodSeconds);
      return ok(undefined);
    });
  }

  readPodLog(
    namespace: string,
    name: string,
    options: { tailLines?: number } = {},
  ): Result<PodLog, ApiError> {
    return this.#call('log', () => {
      const pod = this.#ns(namespace)?.pods.get(name);
      if (pod === undefined) return err(notFound('pods', name));
      const runtime = this.#runtimes.get(meta(pod).uid ?? '');
      if (runtime === undefined || runtime.startedAt === null) {
        if (TERMINAL.includes(pod.status?.phase ?? '')) return ok({ lines: [], finished: true });
        return err(
          apiError(
            'BadRequest',
            `container "${containerName(pod)}" in pod "${name}" is waiting to start`,
          ),
        );
      }
      const lines =
        options.tailLines === undefined
          ? runtime.logs
          : runtime.logs.slice(Math.max(0, runtime.logs.length - options.tailLines));
      return ok({ lines: [...lines], finished: runtime.finishedAt !== null });
    });
  }

  /** Streams ADDED/MODIFIED/DELETED of matching objects of one kind until closed. */
  watch(
    kind: 'Job' | 'Pod',
    options: WatchOptions,
    fn: (event: WatchEvent) => void,
  ): Result<{ close(): void }, ApiError> {
    const selector = parseLabelSelector(options.labelSelector ?? '');
    if (selector.isErr()) return err(apiError('BadRequest', selector.error.message));
    const listener: Listener = {
      namespace: options.namespace,
      selector: selector.value,
      fn: (event) => {
        if (event.kind === kind) fn(event);
      },
    };
    this.#listeners.add(listener);
    return ok({ close: () => this.#listeners.delete(listener) });
  }

  // ---------------------------------------------------------------- time

  /** Runs the controllers for the clock's current time. */
  tick(): void {
    const now = this.now();
    this.#ttlController(now);
    for (let round = 0; round < 20; round++) {
      let changed = this.#nodeController(now);
      changed = this.#scheduler(now) || changed;
      changed = this.#kubelet(now) || changed;
      changed = this.#jobController(now) || changed;
      changed = this.#garbageCollector(now) || changed;
      if (!changed) break;
    }
  }

  /**
   * Moves a steppable clock (a `ManualClock`) by `ms` in steps of `stepMs`, ticking after each
   * step. Only for a cluster built on such a clock: on any other, a programmer error.
   */
  advance(ms: number, stepMs = 100): void {
    const clock = this.#clock as Partial<SteppableClock>;
    if (typeof clock.advance !== 'function')
      throw new TypeError('advance() needs a clock that can be moved, such as ManualClock');
    for (let left = ms; left > 0; left -= stepMs) {
      clock.advance(Math.min(stepMs, left));
      this.tick();
    }
    this.tick();
  }

  /**
   * Ticks every `intervalMs` of wall time, for a cluster on a real clock (a server run without
   * Kubernetes). The timer does not keep the process alive.
   */
  runInRealTime(intervalMs = 100): { stop(): void } {
    const timer = setInterval(() => this.tick(), intervalMs);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  // ---------------------------------------------------------------- fault injection

  /** Injected API failures on a seeded fraction of calls; rates of 0 turn them off. */
  injectApiFaults(rates: ApiFaultRates): void {
    this.#rates = {
      errorRate: rates.errorRate ?? 0,
      timeoutRate: rates.timeoutRate ?? 0,
      verbs: rates.verbs ?? [],
    };
  }

  /** The next `count` calls (of `verb`, or any) fail with `reason`. */
  failNextCalls(
    count: number,
    reason: 'InternalError' | 'ServiceUnavailable' | 'Timeout' = 'InternalError',
    verb?: ApiVerb,
  ): void {
    for (let i = 0; i < count; i++)
      this.#failNext.push({ verb, error: apiError(reason, `injected ${reason}`) });
  }

  /** An unreachable API server: every call answers 503 until reachable again. */
  setReachable(reachable: boolean): void {
    this.#reachable = reachable;
  }

  /** Someone runs `kubectl delete pod --force`: the pod vanishes at once. */
  forceRemovePod(namespace: string, name: string): boolean {
    const pod = this.#ns(namespace)?.pods.get(name);
    if (pod === undefined) return false;
    this.#remove('Pod', namespace, pod);
    return true;
  }

  /** The node stops reporting: its pods go Unknown, then Failed (NodeLost); deletions hang. */
  loseNode(name: string): void {
    const node = this.#nodes.find((n) => n.name === name);
    if (node !== undefined && node.lostAt === null) node.lostAt = this.now();
  }

  /** A deletion of this pod is never confirmed (a finalizer, a dead kubelet) until forced. */
  makePodStuckTerminating(namespace: string, name: string): boolean {
    const runtime = this.#runtimeOf(namespace, name);
    if (runtime !== undefined) runtime.stuckTerminating = true;
    return runtime !== undefined;
  }

  /** The container ignores SIGTERM: it is killed (137) when the grace period ends. */
  makePodIgnoreSigterm(namespace: string, name: string): boolean {
    const runtime = this.#runtimeOf(namespace, name);
    if (runtime !== undefined) runtime.ignoresSigterm = true;
    return runtime !== undefined;
  }

  /** A pod created by someone else, bypassing API faults (an orphan or a foreign pod). */
  addForeignPod(
    namespace: string,
    options: {
      name?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      command?: string[];
      image?: string;
    } = {},
  ): Result<IPod, ApiError> {
    const m: ObjectMeta =
      options.name === undefined ? { generateName: 'foreign-' } : { name: options.name };
    if (options.labels !== undefined) m.labels = { ...options.labels };
    if (options.annotations !== undefined) m.annotations = { ...options.annotations };
    const container: NonNullable<IPod['spec']>['containers'][number] = {
      name: 'main',
      image: options.image ?? 'busybox:1.36',
    };
    if (options.command !== undefined) container.command = options.command;
    return this.#createPod(namespace, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: m,
      spec: { restartPolicy: 'Never', containers: [container] },
    });
  }

  // ---------------------------------------------------------------- inspection (no faults)

  peekJob(namespace: string, name: string): IJob | undefined {
    const job = this.#ns(namespace)?.jobs.get(name);
    return job === undefined ? undefined : clone(job);
  }

  peekPod(namespace: string, name: string): IPod | undefined {
    const pod = this.#ns(namespace)?.pods.get(name);
    return pod === undefined ? undefined : clone(pod);
  }

  allPods(namespace?: string): IPod[] {
    return this.#every((ns) => [...ns.pods.values()], namespace);
  }

  allJobs(namespace?: string): IJob[] {
    return this.#every((ns) => [...ns.jobs.values()], namespace);
  }

  nodeNames(): string[] {
    return this.#nodes.map((n) => n.name);
  }

  // ---------------------------------------------------------------- internals: API plumbing

  #call<T>(verb: ApiVerb, action: () => Result<T, ApiError>): Result<T, ApiError> {
    this.calls[verb] += 1;
    if (!this.#reachable) {
      this.injectedFaults.push({ verb, reason: 'ServiceUnavailable', applied: false });
      return err(apiError('ServiceUnavailable', 'the API server is unreachable'));
    }
    const queued = this.#failNext.findIndex((f) => f.verb === undefined || f.verb === verb);
    if (queued >= 0) {
      const [fault] = this.#failNext.splice(queued, 1);
      if (fault !== undefined) return this.#fail(verb, fault.error, action);
    }
    const { errorRate, timeoutRate, verbs } = this.#rates;
    if ((errorRate > 0 || timeoutRate > 0) && (verbs.length === 0 || verbs.includes(verb))) {
      const draw = this.#random.next();
      if (draw < errorRate)
        return this.#fail(verb, apiError('InternalError', 'injected internal error'), action);
      if (draw < errorRate + timeoutRate)
        return this.#fail(verb, apiError('Timeout', 'injected timeout'), action);
    }
    return action();
  }

  /** A timed-out write may have taken effect: a coin decides, as on a real API server. */
  #fail<T>(verb: ApiVerb, error: ApiError, action: () => Result<T, ApiError>): Result<T, ApiError> {
    const write = verb === 'create' || verb === 'patch' || verb === 'delete';
    const applied = error.reason === 'Timeout' && write && this.#random.chance(0.5);
    if (applied) action();
    this.injectedFaults.push({ verb, reason: error.reason, applied });
    return err(error);
  }

  #ns(name: string): Namespace | undefined {
    return this.#namespaces.get(name);
  }

  #every<T>(read: (ns: Namespace) => T[], namespace?: string): T[] {
    const spaces =
      namespace === undefined
        ? [...this.#namespaces.values()]
        : [this.#ns(namespace)].filter((n): n is Namespace => n !== undefined);
    return spaces.flatMap(read).map(clone);
  }

  #list<T extends { metadata?: ObjectMeta }>(
    namespace: string,
    options: ListOptions,
    read: (ns: Namespace) => T[],
  ): Result<T[], ApiError> {
    const ns = this.#ns(namespace);
    if (ns === undefined) return err(notFound('namespaces', namespace));
    const selector = parseLabelSelector(options.labelSelector ?? '');
    if (selector.isErr()) return err(apiError('BadRequest', selector.error.message));
    return ok(
      read(ns)
        .filter((o) => matchesSelector(o.metadata?.labels, selector.value))
        .map(clone),
    );
  }

  #newMeta(namespace: string, m: ObjectMeta, kind: string): Result<ObjectMeta, ApiError> {
    const name =
      m.name ??
      (m.generateName !== undefined
        ? m.generateName.slice(0, 58) + this.#random.suffix()
        : undefined);
    if (name === undefined || name.length > 63 || !DNS_LABEL.test(name))
      return err(
        apiError('Invalid', `${kind} "${name ?? ''}" is invalid`, [
          { field: 'metadata.name', message: 'must be a DNS-1123 label of at most 63 characters' },
        ]),
      );
    const now = this.now();
    return ok({
      ...clone(m),
      name,
      namespace,
      uid: this.#nextUid(),
      creationTimestamp: iso(now),
      generation: 1,
    });
  }

  #nextUid(): string {
    const n = (++this.#uid).toString(16).padStart(12, '0');
    return `00000000-0000-4000-8000-${n}`;
  }

  #createJob(namespace: string, input: IJob): Result<IJob, ApiError> {
    const ns = this.#ns(namespace);
    if (ns === undefined) return err(notFound('namespaces', namespace));
    const causes = validateModel(new Job(clone(input)));
    if (causes.length > 0)
      return err(apiError('Invalid', `Job "${input.metadata?.name ?? ''}" is invalid`, causes));
    const m = this.#newMeta(namespace, input.metadata ?? {}, 'Job');
    if (m.isErr()) return err(m.error);
    const name = m.value.name ?? '';
    if (ns.jobs.has(name))
      return err(apiError('AlreadyExists', `jobs.batch "${name}" already exists`));
    const uid = m.value.uid ?? '';
    const job: IJob = clone(input);
    job.metadata = m.value;
    const spec = (job.spec ??= { template: {} });
    spec.selector = { matchLabels: { [CONTROLLER_UID_LABEL]: uid } };
    const template = (spec.template.metadata ??= {});
    template.labels = {
      ...template.labels,
      [CONTROLLER_UID_LABEL]: uid,
      [JOB_NAME_LABEL]: name,
      'controller-uid': uid,
      'job-name': name,
    };
    spec.backoffLimit ??= 6;
    job.status = {};
    ns.jobs.set(name, job);
    this.#touch('Job', job, 'ADDED');
    return ok(clone(job));
  }

  #createPod(namespace: string, input: IPod): Result<IPod, ApiError> {
    const ns = this.#ns(namespace);
    if (ns === undefined) return err(notFound('namespaces', namespace));
    const causes = validateModel(new Pod(clone(input)));
    if (causes.length > 0)
      return err(apiError('Invalid', `Pod "${input.metadata?.name ?? ''}" is invalid`, causes));
    const m = this.#newMeta(namespace, input.metadata ?? {}, 'Pod');
    if (m.isErr()) return err(m.error);
    const name = m.value.name ?? '';
    if (ns.pods.has(name)) return err(apiError('AlreadyExists', `pods "${name}" already exists`));
    const pod: IPod = clone(input);
    pod.metadata = m.value;
    const spec = (pod.spec ??= { containers: [] });
    spec.terminationGracePeriodSeconds ??= 30;
    pod.status = { phase: 'Pending', qosClass: qosClassOf(pod) };
    const latency = this.#random.int(this.#startLatency.min, this.#startLatency.max);
    this.#runtimes.set(m.value.uid ?? '', {
      run: this.#workload(pod),
      latencyMs: latency,
      startAt: null,
      startedAt: null,
      finishedAt: null,
      kill: null,
      stuckTerminating: false,
      ignoresSigterm: false,
      logs: [],
    });
    ns.pods.set(name, pod);
    this.#touch('Pod', pod, 'ADDED');
    return ok(clone(pod));
  }

  #runtimeOf(namespace: string, name: string): PodRuntime | undefined {
    const pod = this.#ns(namespace)?.pods.get(name);
    return pod === undefined ? undefined : this.#runtimes.get(meta(pod).uid ?? '');
  }

  #deletePod(namespace: string, pod: IPod, gracePeriodSeconds: number | undefined): void {
    const m = meta(pod);
    const grace = gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    // Forced, or never scheduled: no kubelet has to confirm, the object goes at once.
    if (grace <= 0 || pod.spec?.nodeName === undefined) {
      this.#remove('Pod', namespace, pod);
      return;
    }
    const now = this.now();
    if (m.deletionTimestamp !== undefined) {
      // A second deletion may only shorten the grace period.
      if (grace < (m.deletionGracePeriodSeconds ?? grace)) {
        m.deletionGracePeriodSeconds = grace;
        const runtime = this.#runtimes.get(m.uid ?? '');
        if (runtime?.kill?.reason === 'Deleted')
          runtime.kill = { ...runtime.kill, graceMs: grace * 1_000 };
        this.#touch('Pod', pod, 'MODIFIED');
      }
      return;
    }
    m.deletionTimestamp = iso(now);
    m.deletionGracePeriodSeconds = grace;
    this.#touch('Pod', pod, 'MODIFIED');
  }

  #touch(kind: 'Job' | 'Pod', object: IJob | IPod, type: WatchEventType): void {
    meta(object).resourceVersion = String(++this.#resourceVersion);
    this.#emit(kind, object, type);
  }

  #remove(kind: 'Job' | 'Pod', namespace: string, object: IJob | IPod): void {
    const ns = this.#ns(namespace);
    const name = object.metadata?.name ?? '';
    if (ns === undefined) return;
    if (kind === 'Job') {
      ns.jobs.delete(name);
      this.#jobRuntimes.delete(object.metadata?.uid ?? '');
    } else {
      ns.pods.delete(name);
      this.#runtimes.delete(object.metadata?.uid ?? '');
    }
    meta(object).resourceVersion = String(++this.#resourceVersion);
    this.#emit(kind, object, 'DELETED');
  }

  #emit(kind: 'Job' | 'Pod', object: IJob | IPod, type: WatchEventType): void {
    const namespace = object.metadata?.namespace;
    for (const listener of [...this.#listeners]) {
      if (listener.namespace !== undefined && listener.namespace !== namespace) continue;
      if (!matchesSelector(object.metadata?.labels, listener.selector)) continue;
      const event =
        kind === 'Job'
          ? { type, kind, object: clone(object as IJob) }
          : { type, kind, object: clone(object as IPod) };
      // A watcher's failure is its own: it never breaks the API call that caused the event.
      Result.fromThrowable(
        () => listener.fn(event),
        (e) => e,
      )();
    }
  }

  /** Every pod by the uid of its controller, so a pass over Jobs does not rescan all pods. */
  #podsByOwner(): Map<string, IPod[]> {
    const index = new Map<string, IPod[]>();
    for (const { pod } of this.#allPodsLive()) {
      for (const ref of pod.metadata?.ownerReferences ?? []) {
        const list = index.get(ref.uid) ?? [];
        list.push(pod);
        index.set(ref.uid, list);
      }
    }
    return index;
  }

  #podsOf(namespace: string, job: IJob): IPod[] {
    const uid = job.metadata?.uid;
    return [...(this.#ns(namespace)?.pods.values() ?? [])].filter((p) =>
      (p.metadata?.ownerReferences ?? []).some((r) => r.uid === uid),
    );
  }

  #allPodsLive(): { namespace: string; pod: IPod }[] {
    const out: { namespace: string; pod: IPod }[] = [];
    for (const [namespace, ns] of this.#namespaces)
      for (const pod of ns.pods.values()) out.push({ namespace, pod });
    return out;
  }

  #allJobsLive(): { namespace: string; job: IJob }[] {
    const out: { namespace: string; job: IJob }[] = [];
    for (const [namespace, ns] of this.#namespaces)
      for (const job of ns.jobs.values()) out.push({ namespace, job });
    return out;
  }

  // ---------------------------------------------------------------- internals: controllers

  #nodeOf(pod: IPod): NodeState | undefined {
    return this.#nodes.find((n) => n.name === pod.spec?.nodeName);
  }

  /** Pods on a lost node go Unknown, then Failed (NodeLost) after the eviction delay. */
  #nodeController(now: number): boolean {
    let changed = false;
    for (const { pod } of this.#allPodsLive()) {
      const node = this.#nodeOf(pod);
      const runtime = this.#runtimes.get(pod.metadata?.uid ?? '');
      if (node?.lostAt == null || runtime === undefined) continue;
      const status = (pod.status ??= {});
      if (TERMINAL.includes(status.phase ?? '')) continue;
      if (now >= node.lostAt + this.#nodeLostFailAfterMs) {
        status.phase = 'Failed';
        status.reason = 'NodeLost';
        status.message = `Node ${node.name} which was running pod ${pod.metadata?.name ?? ''} is unresponsive`;
        runtime.finishedAt = node.lostAt + this.#nodeLostFailAfterMs;
        this.#setContainer(pod, {
          terminated: { exitCode: 137, reason: 'NodeLost', finishedAt: iso(runtime.finishedAt) },
        });
        this.#touch('Pod', pod, 'MODIFIED');
        changed = true;
      } else if (status.phase !== 'Unknown') {
        status.phase = 'Unknown';
        status.reason = 'NodeLost';
        this.#touch('Pod', pod, 'MODIFIED');
        changed = true;
      }
    }
    return changed;
  }

  #scheduler(now: number): boolean {
    let changed = false;
    for (const { pod } of this.#allPodsLive()) {
      if (pod.spec?.nodeName !== undefined || pod.metadata?.deletionTimestamp !== undefined)
        continue;
      const runtime = this.#runtimes.get(pod.metadata?.uid ?? '');
      const node = this.#random.pick(this.#nodes.filter((n) => n.lostAt === null));
      if (runtime === undefined || node === undefined) continue;
      (pod.spec ??= { containers: [] }).nodeName = node.name;
      const created = ms(pod.metadata?.creationTimestamp) ?? now;
      runtime.startAt = created + runtime.latencyMs;
      const status = (pod.status ??= {});
      status.startTime = iso(created);
      status.hostIP = `10.0.0.${this.#nodes.indexOf(node) + 10}`;
      status.conditions = [{ type: 'PodScheduled', status: 'True', lastTransitionTime: iso(now) }];
      this.#setContainer(pod, { waiting: { reason: 'ContainerCreating' } });
      this.#touch('Pod', pod, 'MODIFIED');
      changed = true;
    }
    return changed;
  }

  /** Starts containers, ends them (exit, deadline, deletion) and confirms deletions. */
  #kubelet(now: number): boolean {
    let changed = false;
    for (const { namespace, pod } of this.#allPodsLive()) {
      const runtime = this.#runtimes.get(pod.metadata?.uid ?? '');
      const node = this.#nodeOf(pod);
      if (runtime === undefined || node === undefined || node.lostAt !== null) continue;
      changed = this.#advancePod(namespace, pod, runtime, now) || changed;
    }
    return changed;
  }

  /** Applies, in time order, every pod event due by `now`: start, exit, deadline, deletion. */
  #advancePod(namespace: string, pod: IPod, runtime: PodRuntime, now: number): boolean {
    let changed = false;
    for (let step = 0; step < 10; step++) {
      const next = this.#nextPodEvent(pod, runtime, now);
      if (next === null) break;
      changed = true;
      this.#applyPodEvent(pod, runtime, next);
    }
    const terminal = TERMINAL.includes(pod.status?.phase ?? '');
    if (terminal && pod.metadata?.deletionTimestamp !== undefined && !runtime.stuckTerminating) {
      // The kubelet confirms the deletion once the containers are gone.
      this.#remove('Pod', namespace, pod);
      return true;
    }
    return changed;
  }

  #nextPodEvent(pod: IPod, runtime: PodRuntime, now: number): PodEvent | null {
    const status = pod.status ?? {};
    if (TERMINAL.includes(status.phase ?? '')) return null;
    const m = pod.metadata ?? {};
    const events: PodEvent[] = [];
    if (runtime.startedAt !== null && runtime.run.runMs !== null)
      events.push({ kind: 'exit', at: runtime.startedAt + runtime.run.runMs });
    if (runtime.kill !== null && runtime.startedAt !== null) {
      const { exitsAfter } = this.#killTiming(runtime, runtime.kill);
      events.push({ kind: 'killed', at: runtime.kill.at + exitsAfter });
    }
    if (runtime.kill === null) {
      const deadline = pod.spec?.activeDeadlineSeconds;
      const startTime = ms(status.startTime);
      if (deadline !== undefined && startTime !== null) {
        const graceMs = (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1_000;
        events.push({
          kind: 'signal',
          at: startTime + deadline * 1_000,
          kill: { at: startTime + deadline * 1_000, reason: 'DeadlineExceeded', graceMs },
        });
      }
      const deletedAt = ms(m.deletionTimestamp);
      if (deletedAt !== null) {
        const graceMs = (m.deletionGracePeriodSeconds ?? 30) * 1_000;
        events.push({
          kind: 'signal',
          at: deletedAt,
          kill: { at: deletedAt, reason: 'Deleted', graceMs },
        });
      }
    }
    if (runtime.startedAt === null && runtime.startAt !== null)
      events.push({ kind: 'start', at: runtime.startAt });
    const order: Record<PodEvent['kind'], number> = { exit: 0, killed: 1, signal: 2, start: 3 };
    const due = events
      .filter((e) => e.at <= now)
      .sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind]);
    return due[0] ?? null;
  }

  #killTiming(runtime: PodRuntime, kill: Kill): { exitsAfter: number; exitCode: number } {
    const killedHard = runtime.ignoresSigterm || this.#shutdownMs > kill.graceMs;
    return killedHard
      ? { exitsAfter: kill.graceMs, exitCode: 137 }
      : { exitsAfter: this.#shutdownMs, exitCode: 143 };
  }

  #applyPodEvent(pod: IPod, runtime: PodRuntime, event: PodEvent): void {
    const status = (pod.status ??= {});
    switch (event.kind) {
      case 'start': {
        const at = event.at;
        runtime.startedAt = at;
        status.phase = 'Running';
        status.podIP = `10.244.${this.#uid % 250}.${(this.#resourceVersion % 250) + 2}`;
        status.conditions = [
          { type: 'PodScheduled', status: 'True' },
          { type: 'Ready', status: 'True', lastTransitionTime: iso(at) },
        ];
        this.#setContainer(pod, { running: { startedAt: iso(at) } }, true);
        runtime.logs.push(
          ...runtime.run.output.map((line): LogEntry => ({ at, stream: 'stdout', line })),
        );
        this.#touch('Pod', pod, 'MODIFIED');
        return;
      }
      case 'exit':
        this.#finishContainer(pod, runtime, event.at, runtime.run.exitCode, null);
        return;
      case 'killed': {
        const kill = runtime.kill;
        const { exitCode } = kill === null ? { exitCode: 137 } : this.#killTiming(runtime, kill);
        this.#finishContainer(
          pod,
          runtime,
          event.at,
          exitCode,
          kill?.reason === 'DeadlineExceeded' ? 'DeadlineExceeded' : null,
        );
        return;
      }
      case 'signal': {
        if (runtime.startedAt !== null) {
          runtime.kill = event.kill;
          return;
        }
        // Never started: nothing to signal, the pod ends at once.
        runtime.finishedAt = event.at;
        status.phase = 'Failed';
        if (event.kill.reason === 'DeadlineExceeded') {
          status.reason = 'DeadlineExceeded';
          status.message = 'Pod was active on the node longer than the specified deadline';
        }
        this.#setContainer(pod, {
          terminated: { exitCode: 137, reason: 'ContainerCannotRun', finishedAt: iso(event.at) },
        });
        this.#touch('Pod', pod, 'MODIFIED');
        return;
      }
    }
  }

  #finishContainer(
    pod: IPod,
    runtime: PodRuntime,
    at: number,
    exitCode: number,
    podReason: 'DeadlineExceeded' | null,
  ): void {
    const status = (pod.status ??= {});
    runtime.finishedAt = at;
    status.phase = exitCode === 0 && podReason === null ? 'Succeeded' : 'Failed';
    if (podReason !== null) {
      status.reason = podReason;
      status.message = 'Pod was active on the node longer than the specified deadline';
    }
    status.conditions = [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: iso(at) },
    ];
    this.#setContainer(pod, {
      terminated: {
        exitCode,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        startedAt: iso(runtime.startedAt ?? at),
        finishedAt: iso(at),
      },
    });
    this.#touch('Pod', pod, 'MODIFIED');
  }

  #setContainer(
    pod: IPod,
    state: NonNullable<
      NonNullable<NonNullable<IPod['status']>['containerStatuses']>[number]['state']
    >,
    ready = false,
  ): void {
    const container = pod.spec?.containers[0];
    (pod.status ??= {}).containerStatuses = [
      {
        name: container?.name ?? 'main',
        image: container?.image ?? '',
        imageID: '',
        ready,
        restartCount: 0,
        started: state.running !== undefined,
        state,
      },
    ];
  }

  /** One pod per Job (completions 1), retried up to backoffLimit; deadlines; suspension. */
  #jobController(now: number): boolean {
    let changed = false;
    const byOwner = this.#podsByOwner();
    for (const { namespace, job } of this.#allJobsLive()) {
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
      const tracking = this.#jobRuntime(job);
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
        this.#finishJob(job, 'Complete', 'CompletionsReached', lastFinish || now);
      } else if (
        deadline !== undefined &&
        startedAt !== null &&
        now >= startedAt + deadline * 1_000
      ) {
        for (const pod of active) this.#deletePod(namespace, pod, undefined);
        this.#finishJob(job, 'Failed', 'DeadlineExceeded', startedAt + deadline * 1_000);
      } else if (failed > (spec.backoffLimit ?? 6)) {
        this.#finishJob(job, 'Failed', 'BackoffLimitExceeded', lastFinish || now);
      } else if (spec.suspend === true) {
        for (const pod of active) this.#deletePod(namespace, pod, undefined);
      } else if (
        active.length === 0 &&
        pods.every(
          (p) =>
            p.metadata?.deletionTimestamp === undefined || TERMINAL.includes(p.status?.phase ?? ''),
        )
      ) {
        const created = this.#createPod(namespace, podFromTemplate(job));
        if (created.isOk()) {
          tracking.pods.add(created.value.metadata?.name ?? '');
          status.active = 1;
        }
      }
      if (JSON.stringify(status) !== before) {
        this.#touch('Job', job, 'MODIFIED');
        changed = true;
      }
    }
    return changed;
  }

  #jobRuntime(job: IJob): JobRuntime {
    const uid = job.metadata?.uid ?? '';
    let runtime = this.#jobRuntimes.get(uid);
    if (runtime === undefined) {
      runtime = { pods: new Set(), vanished: 0 };
      this.#jobRuntimes.set(uid, runtime);
    }
    return runtime;
  }

  #finishJob(job: IJob, type: 'Complete' | 'Failed', reason: string, at: number): void {
    const status = (job.status ??= {});
    status.conditions = [
      ...(status.conditions ?? []),
      { type, status: 'True', reason, lastProbeTime: iso(at), lastTransitionTime: iso(at) },
    ];
    if (type === 'Complete') status.completionTime = iso(at);
    status.active = 0;
  }

  /** Deletes finished Jobs `ttlSecondsAfterFinished` after they finished. */
  #ttlController(now: number): void {
    for (const { namespace, job } of this.#allJobsLive()) {
      const ttl = job.spec?.ttlSecondsAfterFinished;
      const finished = finishedCondition(job);
      if (
        ttl === undefined ||
        finished === undefined ||
        job.metadata?.deletionTimestamp !== undefined
      )
        continue;
      const at = ms(finished.lastTransitionTime);
      if (at !== null && now >= at + ttl * 1_000) this.#remove('Job', namespace, job);
    }
  }

  /** Dependents of deleted owners go (background); foreground owners go once they have none. */
  #garbageCollector(_now: number): boolean {
    let changed = false;
    const liveUids = new Set(this.#allJobsLive().map(({ job }) => job.metadata?.uid));
    for (const { namespace, pod } of this.#allPodsLive()) {
      const owner = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
      if (
        owner === undefined ||
        liveUids.has(owner.uid) ||
        pod.metadata?.deletionTimestamp !== undefined
      )
        continue;
      this.#deletePod(namespace, pod, undefined);
      changed = true;
    }
    for (const { namespace, job } of this.#allJobsLive()) {
      if (!(job.metadata?.finalizers ?? []).includes(FOREGROUND)) continue;
      const pods = this.#podsOf(namespace, job);
      for (const pod of pods) {
        if (pod.metadata?.deletionTimestamp === undefined) {
          this.#deletePod(namespace, pod, undefined);
          changed = true;
        }
      }
      if (this.#podsOf(namespace, job).length === 0) {
        this.#remove('Job', namespace, job);
        changed = true;
      }
    }
    return changed;
  }
}

function emptyNamespace(): Namespace {
  return { jobs: new Map(), pods: new Map() };
}

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

function containerName(pod: IPod): string {
  return pod.spec?.containers[0]?.name ?? 'main';
}

function finishedCondition(job: IJob) {
  return job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
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

/** `simulateCommand` on the first container; `hodei.mode=agent` pods run until deleted. */
export function defaultWorkload(pod: IPod): SimulatedRun {
  const run = simulateCommand(pod.spec?.containers[0]?.command);
  if (pod.metadata?.labels?.['hodei.mode'] === 'agent') return { ...run, runMs: null };
  return run;
}
