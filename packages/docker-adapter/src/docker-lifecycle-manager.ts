import type { Result } from 'neverthrow';
import {
  dockerProfile,
  LifecycleManager,
  wireLifecycle,
  type BuilderError,
  type WorkerProvider,
} from '@hodei/domain';
import {
  runnable,
  withProfile,
  type ProfileManagerDeps,
  type RunningLifecycle,
} from '@hodei/domain/system';

export type DockerLifecycleManagerDeps = ProfileManagerDeps;

/** The lifecycle manager with the docker profile (SPEC §6). */
export class DockerLifecycleManager extends LifecycleManager {
  constructor(deps: DockerLifecycleManagerDeps) {
    super(withProfile(deps, dockerProfile));
  }
}

/** A Docker provider under lifecycle management, listening to the engine's events. */
export type DockerLifecycle = RunningLifecycle<DockerLifecycleManager>;

/**
 * Wires a DockerLifecycleManager to a provider: the decorator in front, and the manager
 * subscribed to the events stream so a job goes ready → busy when its container runs and
 * terminated when it exits. `start()` recovers and runs the passes on intervals; `close()`
 * (or `await using`) stops them. Without `start()`, call `manager.recover()` after a restart,
 * before the GC runs, and run the passes yourself.
 */
export function createDockerLifecycle(
  deps: DockerLifecycleManagerDeps & { readonly provider: WorkerProvider },
): Result<DockerLifecycle, BuilderError> {
  return wireLifecycle(new DockerLifecycleManager(deps), deps).map(runnable);
}
