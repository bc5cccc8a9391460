import type { Result } from 'neverthrow';
import {
  kubernetesProfile,
  LifecycleManager,
  wireLifecycle,
  type BuilderError,
  type WorkerProvider,
} from '@hodei/domain';
import {
  runnable,
  systemClock,
  withProfile,
  type ProfileManagerDeps,
  type RunningLifecycle,
} from '@hodei/domain/system';
import { KubernetesStubWorkerProvider } from '../provider/kubernetes-stub-worker-provider.js';

/** Without a clock, the simulated cluster's own clock for the stub provider. */
export type KubernetesLifecycleManagerDeps = ProfileManagerDeps;

/** The lifecycle manager with the kubernetes profile (SPEC §6). */
export class KubernetesLifecycleManager extends LifecycleManager {
  constructor(deps: KubernetesLifecycleManagerDeps) {
    const clock =
      deps.provider instanceof KubernetesStubWorkerProvider ? deps.provider.clock : systemClock;
    super(withProfile(deps, kubernetesProfile, clock));
  }
}

/** A Kubernetes provider under lifecycle management, listening to the watch. */
export type KubernetesLifecycle = RunningLifecycle<KubernetesLifecycleManager>;

/**
 * Wires a KubernetesLifecycleManager to a provider: the decorator in front and the manager
 * subscribed to the watch. `start()` recovers and runs the passes on intervals; `close()` (or
 * `await using`) stops them. Without `start()`, call `manager.recover()` after a restart,
 * before the GC runs, and run the passes yourself.
 */
export function createKubernetesLifecycle(
  deps: KubernetesLifecycleManagerDeps & { readonly provider: WorkerProvider },
): Result<KubernetesLifecycle, BuilderError> {
  return wireLifecycle(new KubernetesLifecycleManager(deps), deps).map(runnable);
}
