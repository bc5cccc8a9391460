import type { Result } from 'neverthrow';
import {
  kubernetesProfile,
  LifecycleManagedWorkerProviderBuilder,
  LifecycleManager,
  type BuilderError,
  type Clock,
  type EphemeralWorkerPolicy,
  type IdGenerator,
  type LifecycleManagedWorkerProvider,
  type LifecycleManagerDeps,
  type WatchSubscription,
  type WorkerProvider,
} from '@hodei/domain';
import { systemClock, UuidV7IdGenerator } from '@hodei/domain/system';
import { KubernetesStubWorkerProvider } from '../provider/kubernetes-stub-worker-provider.js';

export type KubernetesLifecycleManagerDeps = Omit<
  LifecycleManagerDeps,
  'policy' | 'clock' | 'ids'
> & {
  /** Default: the kubernetes profile (SPEC §3.4). */
  readonly policy?: EphemeralWorkerPolicy;
  /** Default: the simulated cluster's clock for the stub provider, else the system clock. */
  readonly clock?: Clock;
  /** Default: UUIDv7 event ids. */
  readonly ids?: IdGenerator;
};

/** The lifecycle manager with the kubernetes profile (SPEC §6). */
export class KubernetesLifecycleManager extends LifecycleManager {
  constructor(deps: KubernetesLifecycleManagerDeps) {
    const clock =
      deps.clock ??
      (deps.provider instanceof KubernetesStubWorkerProvider ? deps.provider.clock : systemClock);
    super({
      ...deps,
      clock,
      ids: deps.ids ?? new UuidV7IdGenerator(clock),
      policy: deps.policy ?? kubernetesProfile,
    });
  }
}

/** A Kubernetes provider under lifecycle management, listening to the watch. */
export interface KubernetesLifecycle {
  readonly manager: KubernetesLifecycleManager;
  /** The decorated provider: create and destroy go through the manager. */
  readonly provider: LifecycleManagedWorkerProvider;
  /** Stops the watch; workers keep running. */
  close(): void;
}

/**
 * Wires a KubernetesLifecycleManager to a provider: the decorator in front and the manager
 * subscribed to the watch. Call `manager.recover()` after a restart, before the GC runs.
 */
export function createKubernetesLifecycle(
  deps: KubernetesLifecycleManagerDeps & { readonly provider: WorkerProvider },
): Result<KubernetesLifecycle, BuilderError> {
  const manager = new KubernetesLifecycleManager(deps);
  const builder = new LifecycleManagedWorkerProviderBuilder(deps.provider)
    .withLifecycleManager(manager)
    .withEventPublisher(deps.publisher);
  if (deps.logger !== undefined) builder.withLogger(deps.logger);
  return builder.build().map((provider) => {
    const watch: WatchSubscription | undefined = manager.startWatching();
    return { manager, provider, close: () => watch?.close() };
  });
}
