import type { Worker, WorkerSpec } from '@hodei/domain';
import { createHash } from 'node:crypto';

/**
 * What makes a repeated create idempotent: a SHA-256 of each tracked worker's creation request
 * (no secrets kept), compared with the request that repeats its id.
 */
export class CreationFingerprints {
  readonly #byWorker = new Map<string, string>();

  remember(workerId: string, fingerprint: string): void {
    this.#byWorker.set(workerId, fingerprint);
  }

  forget(workerId: string): void {
    this.#byWorker.delete(workerId);
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
