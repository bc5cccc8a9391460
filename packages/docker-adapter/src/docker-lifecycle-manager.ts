import type { Result } from 'neverthrow';
import {
  dockerProfile,
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

export type DockerLifecycleManagerDeps = Omit<LifecycleManagerDeps, 'policy' | 'clock' | 'ids'> & {
  /** Default: the docker profile (SPEC §3.4). */
  readonly policy?: EphemeralWorkerPolicy;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default: UUIDv7 event ids. */
  readonly ids?: IdGenerator;
};

/** The lifecycle manager with the docker profile (SPEC §6). */
export class DockerLifecycleManager extends LifecycleManager {
  constructor(deps: DockerLifecycleManagerDeps) {
    const clock = deps.clock ?? systemClock;
    super({
      ...deps,
      clock,
      ids: deps.ids ?? new UuidV7IdGenerator(clock),
      policy: deps.policy ?? dockerProfile,
    });
  }
}

/** A Docker provider under lifecycle management, listening to the engine's events. */
export interface DockerLifecycle {
  readonly manager: DockerLifecycleManager;
  /** The decorated provider: create and destroy go through the manager. */
  readonly provider: LifecycleManagedWorkerProvider;
  /** Stops listening to the events stream; workers keep running. */
  close(): void;
}

/**
 * Wires a DockerLifecycleManager to a provider: the decorator in front, and the manager
 * subscribed to the events stream so a job goes ready → busy when its container runs and
 * terminated when it exits. Call `manager.recover()` after a restart, before the GC runs.
 */
export function createDockerLifecycle(
  deps: DockerLifecycleManagerDeps & { readonly provider: WorkerProvider },
): Result<DockerLifecycle, BuilderError> {
  const manager = new DockerLifecycleManager(deps);
  const builder = new LifecycleManagedWorkerProviderBuilder(deps.provider)
    .withLifecycleManager(manager)
    .withEventPublisher(deps.publisher);
  if (deps.logger !== undefined) builder.withLogger(deps.logger);
  return builder.build().map((provider) => {
    const watch: WatchSubscription | undefined = manager.startWatching();
    return { manager, provider, close: () => watch?.close() };
  });
}
