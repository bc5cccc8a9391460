import type { Clock } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import { ApiFaults, type InjectedFault, type InjectedFaultReason } from './api-faults.js';
import { clone, DNS_LABEL, meta } from './api-object.js';
import { apiError, notFound, type ApiError } from './cluster-api.errors.js';
import type {
  ApiFaultRates,
  ApiVerb,
  DeleteOptions,
  IJob,
  IPod,
  JobSpecPatch,
  ListOptions,
  ListPageOptions,
  ObjectList,
  PodLog,
  PodSpecPatch,
  SimulatedClusterOptions,
  SteppableClock,
  WatchEvent,
  WatchOptions,
} from './cluster-types.js';
import { GarbageCollector } from './garbage-collector.js';
import { JobController } from './job-controller.js';
import { Kubelet } from './kubelet.js';
import { NodeController } from './node-controller.js';
import { newNodes, type NodeState } from './node-state.js';
import { foreignPod, ObjectAdmission, type ForeignPodOptions } from './object-admission.js';
import { ObjectStore } from './object-store.js';
import { PodDeletion } from './pod-deletion.js';
import { readLog } from './pod-logs.js';
import { defaultWorkload, PodRuntimes, type PodRuntime } from './pod-runtime.js';
import { Scheduler } from './scheduler.js';
import { SeededRandom } from './seeded-random.js';
import { applyJobPatch, applyPodPatch } from './spec-patches.js';
import { TtlController } from './ttl-controller.js';
import { WatchHub } from './watch-hub.js';

/**
 * An in-memory Kubernetes API server with the controllers a worker provider relies on: a
 * scheduler, a kubelet per node, the Job controller, the TTL-after-finished controller and the
 * garbage collector. Nothing moves until `tick()`, which applies everything due at the clock's
 * time, with exact timestamps; a seed makes every run the same.
 */
export class SimulatedCluster {
  readonly #clock: Clock;
  readonly #nodes: NodeState[];
  readonly #watch = new WatchHub();
  readonly #faults: ApiFaults;
  readonly #runtimes: PodRuntimes;
  readonly #store: ObjectStore;
  readonly #admission: ObjectAdmission;
  readonly #deletion: PodDeletion;
  readonly #ttlController: TtlController;
  readonly #nodeController: NodeController;
  readonly #scheduler: Scheduler;
  readonly #kubelet: Kubelet;
  readonly #jobController: JobController;
  readonly #garbageCollector: GarbageCollector;
  readonly #compactionIntervalMs: number;
  #compactedAt: number;
  /** Every API call, by verb: tests read it. */
  readonly calls: Record<ApiVerb, number>;
  /** Every injected API failure, in order, and whether a timed-out write took effect. */
  readonly injectedFaults: InjectedFault[];

  constructor(clock: Clock, options: SimulatedClusterOptions = {}) {
    this.#clock = clock;
    // One random source for everything, drawn in call order: a seed replays a whole history.
    const random = new SeededRandom(options.seed ?? 1);
    this.#nodes = newNodes(options.nodes ?? ['node-a', 'node-b', 'node-c']);
    this.#faults = new ApiFaults(random);
    this.calls = this.#faults.calls;
    this.injectedFaults = this.#faults.injected;
    this.#runtimes = new PodRuntimes(
      random,
      options.startLatencyMs ?? { min: 500, max: 1_500 },
      options.workload ?? defaultWorkload,
    );
    // The controllers hear of every write as it is made, and so know what they have to do.
    this.#store = new ObjectStore(clock, random, this.#watch, {
      jobChanged: (job, type) => {
        this.#jobController.jobChanged(job);
        if (type !== 'DELETED') this.#ttlController.jobChanged(job);
        this.#garbageCollector.jobChanged(job, type);
      },
      podChanged: (pod, type) => {
        this.#scheduler.podChanged(pod, type);
        this.#kubelet.podChanged(pod, type);
        this.#jobController.podChanged(pod);
        this.#garbageCollector.podChanged(pod, type);
      },
      forget: (kind, uid) => {
        if (kind === 'Job') this.#jobController.forget(uid);
        else this.#runtimes.forget(uid);
      },
    });
    this.#admission = new ObjectAdmission(this.#store, this.#runtimes);
    this.#deletion = new PodDeletion(this.#store, this.#runtimes, clock);
    this.#ttlController = new TtlController(this.#store);
    this.#nodeController = new NodeController(
      this.#store,
      this.#runtimes,
      this.#nodes,
      options.nodeLostFailAfterMs ?? 40_000,
    );
    this.#scheduler = new Scheduler(this.#store, this.#runtimes, this.#nodes, random);
    this.#kubelet = new Kubelet(
      this.#store,
      this.#runtimes,
      this.#nodes,
      options.shutdownMs ?? 1_000,
    );
    this.#jobController = new JobController(this.#store, this.#admission, this.#deletion);
    this.#garbageCollector = new GarbageCollector(this.#store, this.#deletion, clock);
    for (const name of ['default', 'kube-system']) this.#store.addNamespace(name);
    this.#compactionIntervalMs = options.compactionIntervalMs ?? 300_000;
    this.#compactedAt = clock.now();
  }

  get clock(): Clock {
    return this.#clock;
  }

  now(): number {
    return this.#clock.now();
  }

  // ---------------------------------------------------------------- the API (faults apply)

  createNamespace(name: string): Result<string, ApiError> {
    return this.#faults.call('create', () => {
      if (!DNS_LABEL.test(name) || name.length > 63)
        return err(apiError('Invalid', `Namespace "${name}" is invalid`));
      if (this.#store.hasNamespace(name))
        return err(apiError('AlreadyExists', `namespaces "${name}" already exists`));
      this.#store.addNamespace(name);
      return ok(name);
    });
  }

  listNamespaces(): Result<string[], ApiError> {
    return this.#faults.call('list', () => ok(this.#store.namespaceNames()));
  }

  createJob(namespace: string, job: IJob): Result<IJob, ApiError> {
    return this.#faults.call('create', () => this.#admission.createJob(namespace, job));
  }

  getJob(namespace: string, name: string): Result<IJob, ApiError> {
    return this.#faults.call('get', () => {
      const job = this.#store.job(namespace, name);
      return job === undefined ? err(notFound('jobs.batch', name)) : ok(clone(job));
    });
  }

  listJobs(namespace: string, options: ListOptions = {}): Result<IJob[], ApiError> {
    return this.#faults.call('list', () => this.#store.listJobs(namespace, options));
  }

  /** One page of a Jobs list: at most `limit`, carrying on from `continue` (see `listPodPage`). */
  listJobPage(
    namespace: string,
    options: ListPageOptions = {},
  ): Result<ObjectList<IJob>, ApiError> {
    return this.#faults.call('list', () => this.#store.listJobPage(namespace, options));
  }

  patchJob(namespace: string, name: string, patch: JobSpecPatch): Result<IJob, ApiError> {
    return this.#faults.call('patch', () => {
      const job = this.#store.job(namespace, name);
      if (job === undefined) return err(notFound('jobs.batch', name));
      return applyJobPatch(job, name, patch).map(() => {
        this.#store.touch('Job', job, 'MODIFIED');
        return clone(job);
      });
    });
  }

  /** Deletes a Job; its pods follow as `propagationPolicy` says (Background by default). */
  deleteJob(namespace: string, name: string, options: DeleteOptions = {}): Result<void, ApiError> {
    return this.#faults.call('delete', () => {
      const job = this.#store.job(namespace, name);
      if (job === undefined) return err(notFound('jobs.batch', name));
      this.#garbageCollector.deleteJob(namespace, job, options.propagationPolicy ?? 'Background');
      return ok(undefined);
    });
  }

  createPod(namespace: string, pod: IPod): Result<IPod, ApiError> {
    return this.#faults.call('create', () => this.#admission.createPod(namespace, pod));
  }

  getPod(namespace: string, name: string): Result<IPod, ApiError> {
    return this.#faults.call('get', () => {
      const pod = this.#store.pod(namespace, name);
      return pod === undefined ? err(notFound('pods', name)) : ok(clone(pod));
    });
  }

  listPods(namespace: string, options: ListOptions = {}): Result<IPod[], ApiError> {
    return this.#faults.call('list', () => this.#store.listPods(namespace, options));
  }

  /**
   * One page of a pods list, as the API server's `limit` and `continue` give it: each object
   * that exists throughout the list comes exactly once, in creation order; objects created
   * after the first page do not come. Every page reports the list's `resourceVersion`; the
   * last has no `continue`. A malformed token is 400 BadRequest; one from before the last
   * compaction (every `compactionIntervalMs`) is 410 Gone, reason `Expired`.
   */
  listPodPage(
    namespace: string,
    options: ListPageOptions = {},
  ): Result<ObjectList<IPod>, ApiError> {
    return this.#faults.call('list', () => this.#store.listPodPage(namespace, options));
  }

  /** Lowers (or sets) a pod's `activeDeadlineSeconds`, the one spec field a pod lets us change. */
  patchPod(namespace: string, name: string, patch: PodSpecPatch): Result<IPod, ApiError> {
    return this.#faults.call('patch', () => {
      const pod = this.#store.pod(namespace, name);
      if (pod === undefined) return err(notFound('pods', name));
      return applyPodPatch(pod, name, patch).map(() => {
        this.#store.touch('Pod', pod, 'MODIFIED');
        return clone(pod);
      });
    });
  }

  /** Graceful deletion: Terminating for up to the grace period, then gone. Grace 0 forces. */
  deletePod(namespace: string, name: string, options: DeleteOptions = {}): Result<void, ApiError> {
    return this.#faults.call('delete', () => {
      const pod = this.#store.pod(namespace, name);
      if (pod === undefined) return err(notFound('pods', name));
      this.#deletion.request(namespace, pod, options.gracePeriodSeconds);
      return ok(undefined);
    });
  }

  readPodLog(
    namespace: string,
    name: string,
    options: { tailLines?: number } = {},
  ): Result<PodLog, ApiError> {
    return this.#faults.call('log', () => {
      const pod = this.#store.pod(namespace, name);
      if (pod === undefined) return err(notFound('pods', name));
      return readLog(pod, name, this.#runtimes.get(meta(pod).uid ?? ''), options);
    });
  }

  /** Streams ADDED/MODIFIED/DELETED of matching objects of one kind until closed. */
  watch(
    kind: 'Job' | 'Pod',
    options: WatchOptions,
    fn: (event: WatchEvent) => void,
  ): Result<{ close(): void }, ApiError> {
    return this.#watch.subscribe(kind, options, fn);
  }

  // ---------------------------------------------------------------- time

  /** Runs the controllers for the clock's current time. */
  tick(): void {
    const now = this.now();
    if (now - this.#compactedAt >= this.#compactionIntervalMs) this.compact();
    this.#ttlController.run(now);
    // Until nothing changes (a bounded number of rounds): one controller's write can make
    // another's work due at the same instant.
    for (let round = 0; round < 20; round++) {
      let changed = this.#nodeController.run(now);
      changed = this.#scheduler.run(now) || changed;
      changed = this.#kubelet.run(now) || changed;
      changed = this.#jobController.run(now) || changed;
      changed = this.#garbageCollector.run() || changed;
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

  /**
   * The API server compacts its storage's history (etcd compaction; `tick` does it every
   * `compactionIntervalMs`): continue tokens of lists begun before now expire.
   */
  compact(): void {
    this.#store.compact();
    this.#compactedAt = this.now();
  }

  // ---------------------------------------------------------------- fault injection

  /** Injected API failures on a seeded fraction of calls; rates of 0 turn them off. */
  injectApiFaults(rates: ApiFaultRates): void {
    this.#faults.setRates(rates);
  }

  /** The next `count` calls (of `verb`, or any) fail with `reason`. */
  failNextCalls(
    count: number,
    reason: InjectedFaultReason = 'InternalError',
    verb?: ApiVerb,
  ): void {
    this.#faults.failNext(count, reason, verb);
  }

  /** An unreachable API server: every call answers 503 until reachable again. */
  setReachable(reachable: boolean): void {
    this.#faults.setReachable(reachable);
  }

  /** Someone runs `kubectl delete pod --force`: the pod vanishes at once. */
  forceRemovePod(namespace: string, name: string): boolean {
    const pod = this.#store.pod(namespace, name);
    if (pod === undefined) return false;
    this.#store.remove('Pod', namespace, pod);
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
  addForeignPod(namespace: string, options: ForeignPodOptions = {}): Result<IPod, ApiError> {
    return this.#admission.createPod(namespace, foreignPod(options));
  }

  // ---------------------------------------------------------------- inspection (no faults)

  peekJob(namespace: string, name: string): IJob | undefined {
    const job = this.#store.job(namespace, name);
    return job === undefined ? undefined : clone(job);
  }

  peekPod(namespace: string, name: string): IPod | undefined {
    const pod = this.#store.pod(namespace, name);
    return pod === undefined ? undefined : clone(pod);
  }

  allPods(namespace?: string): IPod[] {
    return this.#store.every((ns) => [...ns.pods.values()], namespace);
  }

  allJobs(namespace?: string): IJob[] {
    return this.#store.every((ns) => [...ns.jobs.values()], namespace);
  }

  nodeNames(): string[] {
    return this.#nodes.map((n) => n.name);
  }

  #runtimeOf(namespace: string, name: string): PodRuntime | undefined {
    const pod = this.#store.pod(namespace, name);
    return pod === undefined ? undefined : this.#runtimes.get(meta(pod).uid ?? '');
  }
}
