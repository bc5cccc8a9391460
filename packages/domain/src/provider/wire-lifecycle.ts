import type { Result } from 'neverthrow';
import type { LifecycleManager } from '../lifecycle/lifecycle-manager.js';
import type { LifecycleEventPublisher } from '../ports/event-publisher.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { WorkerProvider } from '../ports/worker-provider.port.js';
import {
  LifecycleManagedWorkerProviderBuilder,
  type BuilderError,
  type LifecycleManagedWorkerProvider,
} from './lifecycle-managed-worker-provider.js';

/** A provider under lifecycle management: its manager, the decorator in front, the watch. */
export interface ManagedLifecycle<M extends LifecycleManager = LifecycleManager> {
  readonly manager: M;
  /** The decorated provider: create and destroy go through the manager. */
  readonly provider: LifecycleManagedWorkerProvider;
  /** Stops listening to the provider's notifications; workers keep running. */
  close(): void;
}

/**
 * Puts the decorator in front of `deps.provider` and subscribes the manager to the provider's
 * notifications. Call `manager.recover()` after a restart, before the passes run.
 */
export function wireLifecycle<M extends LifecycleManager>(
  manager: M,
  deps: {
    readonly provider: WorkerProvider;
    readonly publisher: LifecycleEventPublisher;
    readonly logger?: Logger;
  },
): Result<ManagedLifecycle<M>, BuilderError> {
  const builder = new LifecycleManagedWorkerProviderBuilder(deps.provider)
    .withLifecycleManager(manager)
    .withEventPublisher(deps.publisher);
  if (deps.logger !== undefined) builder.withLogger(deps.logger);
  return builder.build().map((provider) => {
    const watch = manager.startWatching();
    return { manager, provider, close: () => watch?.close() };
  });
}
