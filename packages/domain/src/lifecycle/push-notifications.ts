import type { ResultAsync } from 'neverthrow';
import type { ReconcileStats } from '../events/gc-stats.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import type {
  ProviderWatchEvent,
  WatchSubscription,
  WorkerProvider,
  WorkerStatus,
} from '../ports/worker-provider.port.js';
import type { OperationContext } from './lifecycle-event-emitter.js';
import { errorMessage, type LifecycleError } from './lifecycle.errors.js';
import type { StatusObserver } from './status-observer.js';
import type { WorkerRegistry } from './worker-registry.js';

export interface PushNotificationsDeps {
  readonly provider: Pick<WorkerProvider, 'watch'>;
  readonly registry: Pick<WorkerRegistry, 'get'>;
  readonly observer: Pick<StatusObserver, 'observe'>;
  /** Runs (or joins) a reconciliation: after a watch gap, what was missed is read back. */
  readonly reconcile: () => ResultAsync<ReconcileStats, LifecycleError>;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Applies the provider's push notifications (its watch) as they come. */
export class PushNotifications {
  readonly #deps: PushNotificationsDeps;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(deps: PushNotificationsDeps) {
    this.#deps = deps;
  }

  /** Subscribes to the provider's push notifications, when it has them. */
  start(): WatchSubscription | undefined {
    const { provider } = this.#deps;
    if (provider.watch === undefined) return undefined;
    return provider.watch((event) => {
      const handling = this.#onWatch(event);
      this.#inFlight.add(handling);
      void handling.finally(() => this.#inFlight.delete(handling));
    });
  }

  /** Resolves once every notification received so far has been applied. */
  async whenIdle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  async #onWatch(event: ProviderWatchEvent): Promise<void> {
    const { registry, observer, clock, logger } = this.#deps;
    if (event.type === 'resynced') {
      const reconciled = await this.#deps.reconcile();
      if (reconciled.isErr()) {
        logger.warn('reconciliation after a watch gap failed', {
          error: errorMessage(reconciled.error),
        });
      }
      return;
    }
    const ctx: OperationContext = { actor: 'watch' };
    const w = registry.get(event.workerId);
    if (w === undefined || w.resourceId !== event.resourceId) return;
    let status: WorkerStatus;
    switch (event.type) {
      case 'started':
        status = { state: 'running', health: 'none' };
        break;
      case 'exited':
        status = {
          state: 'exited',
          exitCode: event.exitCode,
          finishedAt: event.finishedAt ?? clock.now(),
          oomKilled: event.oomKilled,
        };
        break;
      case 'removed':
        status = { state: 'missing' };
        break;
      case 'health':
        status = { state: 'running', health: event.health };
        break;
    }
    const result = await observer.observe(event.workerId, status, ctx, event.resourceId);
    if (result.isErr()) {
      logger.warn('a provider notification could not be applied', {
        workerId: event.workerId,
        notification: event.type,
        error: errorMessage(result.error),
      });
    }
  }
}
