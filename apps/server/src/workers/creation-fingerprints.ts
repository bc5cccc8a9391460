import type { Worker, WorkerSpec } from '@hodei/domain';
import { createHash } from 'node:crypto';
import type { WorkerView } from './worker-view.js';

/** How many cleaned-up creations are remembered, so their repeats do not run them again. */
export const ENDED_CREATIONS_KEPT = 10_000;

/** A create whose worker has been cleaned up: what it asked for and the worker it made. */
export interface EndedCreation {
  readonly fingerprint: string;
  readonly worker: WorkerView;
}

/**
 * What makes a repeated create idempotent: a SHA-256 of each tracked worker's creation request
 * (no secrets kept), compared with the request that repeats its id.
 */
export class CreationFingerprints {
  readonly #byWorker = new Map<string, string>();
  /** The worker each live create made, kept for when it ends. */
  readonly #made = new Map<string, WorkerView>();
  /** Insertion-ordered, the oldest dropped past `ENDED_CREATIONS_KEPT`. */
  readonly #ended = new Map<string, EndedCreation>();
  /** Cleaned up before their create answered (a job with TTL 0 during a pass). */
  readonly #endedBeforeAnswer = new Set<string>();

  constructor(private readonly endedKept = ENDED_CREATIONS_KEPT) {}

  remember(workerId: string, fingerprint: string): void {
    this.#byWorker.set(workerId, fingerprint);
    this.#ended.delete(workerId);
  }

  /** The worker a create made (its answer), recalled once it is cleaned up. */
  made(workerId: string, worker: WorkerView): void {
    if (!this.#byWorker.has(workerId)) return;
    this.#made.set(workerId, worker);
    if (this.#endedBeforeAnswer.delete(workerId)) this.forget(workerId);
  }

  /** A create that failed, or a worker destroyed on request: the id is free, nothing is kept. */
  release(workerId: string): void {
    this.#byWorker.delete(workerId);
    this.#made.delete(workerId);
    this.#ended.delete(workerId);
    this.#endedBeforeAnswer.delete(workerId);
  }

  /**
   * The worker was cleaned up: its creation is kept (bounded) so that a repeat of the same
   * request answers with the worker it made instead of running it again.
   */
  forget(workerId: string): void {
    const fingerprint = this.#byWorker.get(workerId);
    const worker = this.#made.get(workerId);
    if (fingerprint !== undefined && worker === undefined) {
      // Its create has not answered yet: it records the ended creation when it does.
      this.#endedBeforeAnswer.add(workerId);
      return;
    }
    this.#byWorker.delete(workerId);
    this.#made.delete(workerId);
    if (fingerprint === undefined || worker === undefined) return;
    this.#ended.delete(workerId);
    this.#ended.set(workerId, { fingerprint, worker: endedView(worker) });
    while (this.#ended.size > this.endedKept) {
      const oldest = this.#ended.keys().next();
      if (oldest.done === true) break;
      this.#ended.delete(oldest.value);
    }
  }

  /** The cleaned-up creation `fingerprint` repeats, if it is still remembered. */
  endedRepeat(workerId: string, fingerprint: string): EndedCreation | undefined {
    const ended = this.#ended.get(workerId);
    return ended?.fingerprint === fingerprint ? ended : undefined;
  }

  /** Whether creating `spec` on `providerId` repeats the create that made `worker`. */
  isRepeat(worker: Worker, spec: WorkerSpec, fingerprint: string, providerId: string): boolean {
    const known = this.#byWorker.get(worker.id);
    // After a restart only what the labels recorded can be compared.
    return known !== undefined
      ? known === fingerprint
      : worker.providerId === providerId &&
          worker.mode === spec.mode &&
          worker.image === spec.image &&
          JSON.stringify(worker.policy) === JSON.stringify(spec.policy);
  }
}

export function fingerprintOf(providerId: string, spec: WorkerSpec): string {
  const sorted = (o: Readonly<Record<string, string>> | undefined) =>
    o === undefined
      ? null
      : Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  const text = `${providerId}\n${JSON.stringify({
    mode: spec.mode,
    readiness: spec.readiness ?? null,
    image: spec.image,
    command: spec.command ?? null,
    env: sorted(spec.env),
    labels: sorted(spec.labels),
    resources: spec.resources ?? null,
    policy: spec.policy,
  })}`;
  return createHash('sha256').update(text).digest('base64url');
}

/** A cleaned-up worker only ever ended: a state it had not yet left when seen is shown ended. */
export function endedView(worker: WorkerView): WorkerView {
  if (worker.state === 'terminated' || worker.state === 'failed') return worker;
  return { ...worker, state: 'terminated' };
}
