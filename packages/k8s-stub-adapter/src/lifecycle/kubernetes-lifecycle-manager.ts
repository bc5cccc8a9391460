import type { Result } from 'neverthrow';
import {
  kubernetesProfile,
  LifecycleManager,
  wireLifecycle,
  type BuilderError,
  type ManagedLifecycle,
  type WorkerProvider,
} from '@hodei/domain';
import { systemClock, withProfile, type ProfileManagerDeps } from '@hodei/domain/system';
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
export type KubernetesLifecycle = ManagedLifecycle<KubernetesLifecycleManager>;

/**
 * Wires a KubernetesLifecycleManager to a provider: the decorator in front and the manager
 * subscribed to the watch. Call `manager.recover()` after a restart, before the GC runs.
 */
export function createKubernetesLifecycle(
  deps: KubernetesLifecycleManagerDeps & { readonly provider: WorkerProvider },
): Result<KubernetesLifecycle, BuilderError> {
  return wireLifecycle(new KubernetesLifecycleManager(deps), deps);
}
