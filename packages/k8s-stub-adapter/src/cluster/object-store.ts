import type { Clock } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import { clone, DNS_LABEL, iso, meta } from './api-object.js';
import { apiError, notFound, type ApiError } from './cluster-api.errors.js';
import type {
  IJob,
  IPod,
  ListOptions,
  ObjectKind,
  ObjectMeta,
  WatchEventType,
} from './cluster-types.js';
import { matchesSelector, parseLabelSelector } from './label-selector.js';
import type { SeededRandom } from './seeded-random.js';
import type { WatchHub } from './watch-hub.js';

export interface Namespace {
  readonly jobs: Map<string, IJob>;
  readonly pods: Map<string, IPod>;
}

/**
 * The API server's storage: namespaces of Jobs and pods, names, uids and resource versions.
 * Every write bumps the resource version and reaches the watches.
 */
export class ObjectStore {
  readonly #clock: Clock;
  readonly #random: SeededRandom;
  readonly #watch: WatchHub;
  /** Drops what the controllers remember of a removed object, before watchers hear of it. */
  readonly #forget: (kind: ObjectKind, uid: string) => void;
  readonly #namespaces = new Map<string, Namespace>();
  #resourceVersion = 0;
  #uid = 0;

  constructor(
    clock: Clock,
    random: SeededRandom,
    watch: WatchHub,
    forget: (kind: ObjectKind, uid: string) => void,
  ) {
    this.#clock = clock;
    this.#random = random;
    this.#watch = watch;
    this.#forget = forget;
  }

  /** The last resource version handed out. */
  get resourceVersion(): number {
    return this.#resourceVersion;
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
    this.#namespaces.set(name, { jobs: new Map(), pods: new Map() });
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

  /** Copies of the objects of one namespace matching a label selector. */
  list<T extends { metadata?: ObjectMeta }>(
    namespace: string,
    options: ListOptions,
    read: (ns: Namespace) => T[],
  ): Result<T[], ApiError> {
    const ns = this.namespace(namespace);
    if (ns === undefined) return err(notFound('namespaces', namespace));
    const selector = parseLabelSelector(options.labelSelector ?? '');
    if (selector.isErr()) return err(apiError('BadRequest', selector.error.message));
    return ok(
      read(ns)
        .filter((o) => matchesSelector(o.metadata?.labels, selector.value))
        .map(clone),
    );
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

  /** The stored Jobs themselves (not copies), for the controllers. */
  allJobsLive(): { namespace: string; job: IJob }[] {
    const out: { namespace: string; job: IJob }[] = [];
    for (const [namespace, ns] of this.#namespaces)
      for (const job of ns.jobs.values()) out.push({ namespace, job });
    return out;
  }

  /** Every pod by the uid of its controller, so a pass over Jobs does not rescan all pods. */
  podsByOwner(): Map<string, IPod[]> {
    const index = new Map<string, IPod[]>();
    for (const { pod } of this.allPodsLive()) {
      for (const ref of pod.metadata?.ownerReferences ?? []) {
        const list = index.get(ref.uid) ?? [];
        list.push(pod);
        index.set(ref.uid, list);
      }
    }
    return index;
  }

  podsOf(namespace: string, job: IJob): IPod[] {
    const uid = job.metadata?.uid;
    return [...(this.namespace(namespace)?.pods.values() ?? [])].filter((p) =>
      (p.metadata?.ownerReferences ?? []).some((r) => r.uid === uid),
    );
  }

  // ---------------------------------------------------------------- writes

  /** The metadata of a new object: its name (generated if asked), uid and creation time. */
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
    return ok({
      ...clone(m),
      name,
      namespace,
      uid: this.#nextUid(),
      creationTimestamp: iso(now),
      generation: 1,
    });
  }

  /** Records a change to a stored object (or its addition, stored beforehand). */
  touch(kind: ObjectKind, object: IJob | IPod, type: WatchEventType): void {
    meta(object).resourceVersion = String(++this.#resourceVersion);
    this.#watch.emit(kind, object, type);
  }

  remove(kind: ObjectKind, namespace: string, object: IJob | IPod): void {
    const ns = this.namespace(namespace);
    const name = object.metadata?.name ?? '';
    if (ns === undefined) return;
    if (kind === 'Job') ns.jobs.delete(name);
    else ns.pods.delete(name);
    this.#forget(kind, object.metadata?.uid ?? '');
    meta(object).resourceVersion = String(++this.#resourceVersion);
    this.#watch.emit(kind, object, 'DELETED');
  }

  #nextUid(): string {
    const n = (++this.#uid).toString(16).padStart(12, '0');
    return `00000000-0000-4000-8000-${n}`;
  }
}
