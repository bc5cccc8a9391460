import type { GarbageCollectionStats, LifecycleManager } from '@hodei/domain';
import type { ProviderEntry } from '../workers/provider-entry.js';
import type { PassObserver } from './pass-observer.js';

export interface GcReport {
  readonly workersCleaned: number;
  readonly orphansDetected: number;
  readonly errors: number;
  readonly durationMs: number;
  readonly byProvider: Record<string, GarbageCollectionStats & { readonly lost: number }>;
}

export interface OnDemandPassDeps {
  readonly now: () => number;
  readonly observer?: PassObserver;
  /** False while this server does not hold its provider locks: passes are refused. */
  readonly mayRunPasses?: () => boolean;
}

type ProviderReport = GcReport['byProvider'][string];

/** A deadline pass and a reconciliation on every provider, now (`POST /v1/gc`). */
export async function runPassesNow(
  providers: readonly ProviderEntry[],
  deps: OnDemandPassDeps,
): Promise<GcReport> {
  const byProvider: GcReport['byProvider'] = {};
  let workersCleaned = 0;
  let orphansDetected = 0;
  let errors = 0;
  let durationMs = 0;
  for (const entry of providers) {
    const lifecycle = entry.lifecycle;
    if (lifecycle === undefined) continue;
    const started = deps.now();
    if (!(deps.mayRunPasses?.() ?? true) || !(await lifecycle.recovery.ensure())) {
      errors += 1;
      continue;
    }
    const report = await passesOf(entry, lifecycle.manager, deps, started);
    byProvider[entry.id] = report;
    workersCleaned += report.workersCleaned;
    orphansDetected += report.orphansDetected;
    errors += report.errors;
    durationMs += report.durationMs;
  }
  return { workersCleaned, orphansDetected, errors, durationMs, byProvider };
}

/** One provider's reconciliation then deadline pass; a failed one counts as one error. */
async function passesOf(
  entry: ProviderEntry,
  manager: LifecycleManager,
  deps: OnDemandPassDeps,
  started: number,
): Promise<ProviderReport> {
  const reconciled = await manager.reconcile();
  const gc = await manager.runGcCycle();
  if (reconciled.isOk()) deps.observer?.reconcile(entry.id, reconciled.value);
  if (gc.isOk()) deps.observer?.gc(entry.id, gc.value);
  const stats = gc.isOk() ? gc.value : undefined;
  const lost = reconciled.isOk() ? reconciled.value.lost : 0;
  const orphans =
    (reconciled.isOk() ? reconciled.value.orphansDetected : 0) + (stats?.orphansDetected ?? 0);
  const errs = (reconciled.isErr() ? 1 : reconciled.value.errors) + (stats?.errors ?? 1);
  return {
    workersCleaned: stats?.workersCleaned ?? 0,
    orphansDetected: orphans,
    errors: errs,
    durationMs: deps.now() - started,
    lifetimeExceeded: stats?.lifetimeExceeded ?? 0,
    idleTimedOut: stats?.idleTimedOut ?? 0,
    startupTimedOut: stats?.startupTimedOut ?? 0,
    forceTerminated: stats?.forceTerminated ?? 0,
    ttlExpired: stats?.ttlExpired ?? 0,
    expiryWarnings: stats?.expiryWarnings ?? 0,
    lost,
  };
}
