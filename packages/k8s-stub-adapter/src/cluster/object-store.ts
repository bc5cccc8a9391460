import { OWNERSHIP_LABELS, type Clock } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import { clone, DNS_LABEL, extend, iso, meta } from './api-object.js';
import { apiError, notFound, type ApiError } from './cluster-api.errors.js';
import type {
  IJob,
  IPod,
  ListOptions,
  ListPageOptions,
  ObjectKind,
  ObjectList,
  ObjectMeta,
  WatchEventType,
} from './cluster-types.js';
import { matchesSelector, parseLabelSelector, type LabelSelector } from './label-selector.js';
import {
  decodeContinue,
  encodeContinue,
  EXPIRED_MESSAGE,
  pageLimit,
  takePage,
  type ListCursor,
} from './list-paging.js';
import { MultiIndex } from './multi-index.js';
import type { SeededRandom } from './seeded-random.js';
import type { WatchHub } from './watch-hub.js';

export interface Namespace {
  /** Its place among the namespaces: objects are listed namespace by namespace. */
  readonly ordinal: number;
  readonly jobs: Map<string, IJob>;
  readonly pods: Map<string, IPod>;
  /** Jobs and pods by the values of the indexed labels, in insertion order. */
  readonly jobLabels: LabelIndex<IJob>;
  readonly podLabels: LabelIndex<IPod>;
}

type LabelIndex<T extends object> = Map<string, MultiIndex<string, T>>;

/** What the controllers hear of every write, before the watches do. */
export interface StoreObserver {
  jobChanged(job: IJob, type: WatchEventType): void;
  podChanged(pod: IPod, type: WatchEventType): void;
  /** Drops what a controller remembers of a removed object. */
  forget(kind: ObjectKind, uid: string): void;
}

/**
 * The labels lists are indexed by: those of the selectors the provider uses (its own objects,
 * the pods of one Job). A selector with an equality on one of them reads only its objects.
 */
const INDEXED_LABELS: readonly string[] = [
  OWNERSHIP_LABELS.providerId,
  'batch.kubernetes.io/controller-uid',
];

/**
 * The API server's storage: namespaces of Jobs and pods, names, uids and resource versions,
 * with indexes by uid, by owner and by label. Every write bumps the resource version and
 * reaches the controllers, then the watches.
 */
export class ObjectStore {
  readonly #clock: Clock;
  readonly #random: SeededRandom;
  readonly #watch: WatchHub;
  readonly #observer: StoreObserver;
  readonly #namespaces = new Map<string, Namespace>();
  readonly #jobsByUid = new Map<string, IJob>();
  readonly #podsByUid = new Map<string, IPod>();
  /** Pods by the uid of each of their owners. */
  readonly #podsByOwner = new MultiIndex<string, IPod>();
  #resourceVersion = 0;
  /** Continue tokens of lists begun before this resource version have expired. */
  #compactedRevision = 0;
  #uid = 0;

  constructor(clock: Clock, random: SeededRandom, watch: WatchHub, observer: StoreObserver) {
    this.#clock = clock;
    this.#random = random;
    this.#watch = watch;
    this.#observer = observer;
  }

  /** The last resource version handed out. */
  get resourceVersion(): number {
    return this.#resourceVersion;
  }

  /** How many pods are stored, in every namespace. */
  get podCount(): number {
    return this.#podsByUid.size;
  }

  /** How many uids were handed out. */
  get uidCount(): number {
    return this.#uid;
  }

  // ---------------------------------------------------------------- namespaces

  namespace(name: string): Namespace | undefined {
    return this.#namespaces.get(name);
  }

  hasNamespace(name: string): boolean {
    return this.#namespaces.has(name);
  }

  addNamespace(name: string): void {
    this.#namespaces.set(name, {
      ordinal: this.#namespaces.size,
      jobs: new Map(),
      pods: new Map(),
      jobLabels: new Map(),
      podLabels: new Map(),
    });
  }

  namespaceNames(): string[] {
    return [...this.#namespaces.keys()];
  }

  // ---------------------------------------------------------------- reads

  job(namespace: string, name: string): IJob | undefined {
    return this.namespace(namespace)?.jobs.get(name);
  }

  pod(namespace: string, name: string): IPod | undefined {
    return this.namespace(namespace)?.pods.get(name);
  }

  jobByUid(uid: string): IJob | undefined {
    return this.#jobsByUid.get(uid);
  }

  podByUid(uid: string): IPod | undefined {
    return this.#podsByUid.get(uid);
  }

  /** Copies of the Jobs of one namespace matching a label selector. */
  listJobs(namespace: string, options: ListOptions): Result<IJob[], ApiError> {
    return this.#list(namespace, options, (ns) => [ns.jobs, ns.jobLabels]);
  }

  /** Copies of the pods of one namespace matching a label selector. */
  listPods(namespace: string, options: ListOptions): Result<IPod[], ApiError> {
    return this.#list(namespace, options, (ns) => [ns.pods, ns.podLabels]);
  }

  /** One page of the Jobs of one namespace matching a label selector (`limit`, `continue`). */
  listJobPage(namespace: string, options: ListPageOptions): Result<ObjectList<IJob>, ApiError> {
    return this.#page('jobs', namespace, options, (ns) => [ns.jobs, ns.jobLabels]);
  }

  /** One page of the pods of one namespace matching a label selector (`limit`, `continue`). */
  listPodPage(namespace: string, options: ListPageOptions): Result<ObjectList<IPod>, ApiError> {
    return this.#page('pods', namespace, options, (ns) => [ns.pods, ns.podLabels]);
  }

  /**
   * Forgets the history before the current resource version, as etcd's compaction does: the
   * continue tokens of lists begun before now expire (410 Gone).
   */
  compact(): void {
    this.#compactedRevision = this.#resourceVersion;
  }

  /** Copies of the objects of one namespace, or of all. */
  every<T>(read: (ns: Namespace) => T[], namespace?: string): T[] {
    const spaces =
      namespace === undefined
        ? [...this.#namespaces.values()]
        : [this.namespace(namespace)].filter((n): n is Namespace => n !== undefined);
    return spaces.flatMap(read).map(clone);
  }

  /** The stored pods themselves (not copies), for the controllers. */
  allPodsLive(): { namespace: string; pod: IPod }[] {
    const out: { namespace: string; pod: IPod }[] = [];
    for (const [namespace, ns] of this.#namespaces)
      for (const pod of ns.pods.values()) out.push({ namespace, pod });
    return out;
  }

  /** The stored pods (not copies) with an owner reference to `uid`, in store order. */
  podsOwnedBy(uid: string): IPod[] {
    const pods = this.#podsByOwner.get(uid);
    return pods.length > 1 ? pods.sort(this.order) : pods;
  }

  /** The stored pods of one namespace owned by the Job. */
  podsOf(namespace: string, job: IJob): IPod[] {
    return this.podsOwnedBy(job.metadata?.uid ?? '').filter(
      (p) => p.metadata?.namespace === namespace,
    );
  }

  /**
   * The order objects are listed in: namespace by namespace, then by creation. Uids are
   * handed out in creation order, zero-padded, so they compare as the creation order.
   */
  readonly order = (a: IJob | IPod, b: IJob | IPod): number => {
    const na = this.namespace(a.metadata?.namespace ?? '')?.ordinal ?? -1;
    const nb = this.namespace(b.metadata?.namespace ?? '')?.ordinal ?? -1;
    if (na !== nb) return na - nb;
    const ua = a.metadata?.uid ?? '';
    const ub = b.metadata?.uid ?? '';
    return ua < ub ? -1 : ua > ub ? 1 : 0;
  };

  #list<T extends IJob | IPod>(
    namespace: string,
    options: ListOptions,
    read: (ns: Namespace) => [Map<string, T>, LabelIndex<T>],
  ): Result<T[], ApiError> {
    const ns = this.namespace(namespace);
    if (ns === undefined) return err(notFound('namespaces', namespace));
    const selector = parseLabelSelector(options.labelSelector ?? '');
    if (selector.isErr()) return err(apiError('BadRequest', selector.error.message));
    const [all, labels] = read(ns);
    const out: T[] = [];
    for (const o of candidates(all, labels, selector.value))
      if (matchesSelector(o.metadata?.labels, selector.value)) out.push(clone(o));
    return ok(out);
  }

  #page<T extends IJob | IPod>(
    resource: string,
    namespace: string,
    options: ListPageOptions,
    read: (ns: Namespace) => [Map<string, T>, LabelIndex<T>],
  ): Result<ObjectList<T>, ApiError> {
    const ns = this.namespace(namespace);
    if (ns === undefined) return err(notFound('namespaces', namespace));
    const selector = parseLabelSelector(options.labelSelector ?? '');
    if (selector.isErr()) return err(apiError('BadRequest', selector.error.message));
    const prefix = `${resource}/${namespace}/`;
    let cursor: ListCursor = {
      rv: this.#resourceVersion,
      after: '',
      until: uidOf(this.#uid),
    };
    if (options.continue !== undefined && options.continue !== '') {
      const decoded = decodeContinue(options.continue, prefix);
      if (decoded.isErr()) return err(decoded.error);
      if (decoded.value.rv < this.#compactedRevision)
        return err(apiError('Expired', EXPIRED_MESSAGE));
      cursor = decoded.value;
    }
    const [all, labels] = read(ns);
    const page = takePage(
      candidates(all, labels, selector.value),
      (o) => matchesSelector(o.metadata?.labels, selector.value),
      clone,
      cursor,
      pageLimit(options.limit),
    );
    const resourceVersion = String(cursor.rv);
    return ok({
      metadata:
        page.next === undefined
          ? { resourceVersion }
          : { resourceVersion, continue: encodeContinue(page.next, prefix) },
      items: page.items,
    });
  }

  // ---------------------------------------------------------------- writes

  /**
   * The metadata of a new object: its name (generated if asked), uid and creation time. `m` is
   * the store's own (a copy of the caller's): its labels and annotations are kept, not copied.
   */
  newMeta(namespace: string, m: ObjectMeta, kind: string): Result<ObjectMeta, ApiError> {
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
    const now = this.#clock.now();
    return ok(
      extend(m, {
        name,
        namespace,
        uid: this.#nextUid(),
        creationTimestamp: iso(now),
        generation: 1,
      }),
    );
  }

  /** Stores a new Job (its metadata from `newMeta`) and announces it. */
  addJob(namespace: string, job: IJob): void {
    const ns = this.namespace(namespace);
    if (ns === undefined) return;
    const m = meta(job);
    ns.jobs.set(m.name ?? '', job);
    this.#jobsByUid.set(m.uid ?? '', job);
    indexLabels(ns.jobLabels, job, 'add');
    this.touch('Job', job, 'ADDED');
  }

  /** Stores a new pod (its metadata from `newMeta`) and announces it. */
  addPod(namespace: string, pod: IPod): void {
    const ns = this.namespace(namespace);
    if (ns === undefined) return;
    const m = meta(pod);
    ns.pods.set(m.name ?? '', pod);
    this.#podsByUid.set(m.uid ?? '', pod);
    for (const ref of m.ownerReferences ?? []) this.#podsByOwner.add(ref.uid, pod);
    indexLabels(ns.podLabels, pod, 'add');
    this.touch('Pod', pod, 'ADDED');
  }

  /** Removes the pod's references to an owner (the pod is orphaned); the caller touches it. */
  dropOwner(pod: IPod, ownerUid: string): void {
    const m = meta(pod);
    m.ownerReferences = (m.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
    this.#podsByOwner.delete(ownerUid, pod);
  }

  /** Records a change to a stored object (or its addition, stored beforehand). */
  touch(kind: ObjectKind, object: IJob | IPod, type: WatchEventType): void {
    meta(object).resourceVersion = String(++this.#resourceVersion);
    this.#announce(kind, object, type);
  }

  remove(kind: ObjectKind, namespace: string, object: IJob | IPod): void {
    const ns = this.namespace(namespace);
    const m = meta(object);
    const name = m.name ?? '';
    const uid = m.uid ?? '';
    if (ns === undefined) return;
    // By name, as the API server deletes: whatever is stored under it leaves the indexes.
    if (kind === 'Job') {
      const stored = ns.jobs.get(name);
      if (stored !== undefined) {
        this.#jobsByUid.delete(stored.metadata?.uid ?? '');
        indexLabels(ns.jobLabels, stored, 'delete');
      }
      ns.jobs.delete(name);
    } else {
      const stored = ns.pods.get(name);
      if (stored !== undefined) {
        this.#podsByUid.delete(stored.metadata?.uid ?? '');
        for (const ref of stored.metadata?.ownerReferences ?? [])
          this.#podsByOwner.delete(ref.uid, stored);
        indexLabels(ns.podLabels, stored, 'delete');
      }
      ns.pods.delete(name);
    }
    this.#observer.forget(kind, uid);
    m.resourceVersion = String(++this.#resourceVersion);
    this.#announce(kind, object, 'DELETED');
  }

  #announce(kind: ObjectKind, object: IJob | IPod, type: WatchEventType): void {
    if (kind === 'Job') this.#observer.jobChanged(object as IJob, type);
    else this.#observer.podChanged(object as IPod, type);
    this.#watch.emit(kind, object, type);
  }

  #nextUid(): string {
    return uidOf(++this.#uid);
  }
}

/** The n-th uid handed out: zero-padded, so uids compare as their creation order. */
const uidOf = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function indexLabels<T extends IJob | IPod>(
  index: LabelIndex<T>,
  object: T,
  op: 'add' | 'delete',
): void {
  const labels = object.metadata?.labels ?? {};
  for (const key of INDEXED_LABELS) {
    const value = Object.hasOwn(labels, key) ? labels[key] : undefined;
    if (value === undefined) continue;
    let byValue = index.get(key);
    if (byValue === undefined) index.set(key, (byValue = new MultiIndex()));
    byValue[op](value, object);
  }
}

/** The objects a selector may match: those of its most selective indexed equality, or all. */
function candidates<T extends IJob | IPod>(
  all: Map<string, T>,
  index: LabelIndex<T>,
  selector: LabelSelector,
): Iterable<T> {
  let best: T[] | undefined;
  for (const r of selector) {
    if (r.op !== '=' || !INDEXED_LABELS.includes(r.key)) continue;
    const byValue = index.get(r.key);
    const count = byValue?.count(r.value) ?? 0;
    if (best === undefined || count < best.length) best = byValue?.get(r.value) ?? [];
    if (best.length === 0) break;
  }
  return best ?? all.values();
}
