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
import type { LifecycleCounters } from './lifecycle-counters.js';
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
  readonly counters: LifecycleCounters;
}

/**
 * Applies the provider's push notifications (its watch) as they come. During a recovery,
 * those of workers not tracked yet wait for it: recovery lists the resources, then stores
 * them, and a notification between the two would otherwise find nobody and be lost.
 */
export class PushNotifications {
  readonly #deps: PushNotificationsDeps;
  readonly #inFlight = new Set<Promise<void>>();
  /** Recoveries under way. */
  #recovering = 0;
  /** Notifications of untracked workers received during a recovery, in order. */
  readonly #deferred: ProviderWatchEvent[] = [];

  constructor(deps: PushNotificationsDeps) {
    this.#deps = deps;
  }

  /** Subscribes to the provider's push notifications, when it has them. */
  start(): WatchSubscription | undefined {
    const { provider } = this.#deps;
    if (provider.watch === undefined) return undefined;
    return provider.watch((event) => this.#receive(event));
  }

  /** Resolves once every notification received so far has been applied. */
  async whenIdle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /**
   * Runs a recovery, holding back the notifications of workers it may be about to store
   * until it has stored them; they are applied then, in the order they came.
   */
  async duringRecovery<T>(recover: () => Promise<T>): Promise<T> {
    this.#recovering += 1;
    try {
      return await recover();
    } finally {
      this.#recovering -= 1;
      if (this.#recovering === 0) {
        for (const event of this.#deferred.splice(0)) this.#handle(event);
      }
    }
  }

  #receive(event: ProviderWatchEvent): void {
    if (
      this.#recovering > 0 &&
      event.type !== 'resynced' &&
      this.#deps.registry.get(event.workerId) === undefined
    ) {
      this.#deferred.push(event);
      return;
    }
    this.#handle(event);
  }

  #handle(event: ProviderWatchEvent): void {
    // Never a rejection: a listener's promise is nobody's to handle.
    const handling = this.#onWatch(event).catch((cause: unknown) => {
      this.#deps.counters.thrown += 1;
      this.#deps.logger.error('a provider notification threw', {
        notification: event.type,
        error: cause instanceof Error ? cause.message : String(cause),
      });
    });
    this.#inFlight.add(handling);
    void handling.then(() => this.#inFlight.delete(handling));
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
