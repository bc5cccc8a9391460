import type { EventMeta, LifecycleEvent } from '../events/lifecycle-event.js';
import type { Actor } from '../events/reasons.js';
import type { Clock } from '../ports/clock.port.js';
import type { LifecycleEventPublisher } from '../ports/event-publisher.port.js';
import type { IdGenerator } from '../ports/id-generator.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ProviderId } from '../worker/ids.js';
import type { Worker } from '../worker/worker.js';
import type { LifecycleCounters } from './lifecycle-counters.js';
import { errorMessage } from './lifecycle.errors.js';

/** Who asked for an operation and why: carried into the meta of the events it emits. */
export interface OperationContext {
  readonly correlationId?: string;
  readonly actor?: Actor;
  /**
   * The resource the operation started on (a fence): a change that comes after an await is
   * refused with WorkerReplaced when the worker under this id now has another resource.
   */
  readonly resourceId?: string;
}

export interface LifecycleEventEmitterDeps {
  readonly providerId: ProviderId;
  readonly publisher: LifecycleEventPublisher;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  readonly counters: LifecycleCounters;
  /** The tracked workers, for the resource (the life) an event without one in its context is of. */
  readonly registry?: { get(workerId: string): Pick<Worker, 'resourceId'> | undefined };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Stamps the manager's events (id, time, provider, context) and publishes them. */
export class LifecycleEventEmitter {
  readonly #deps: LifecycleEventEmitterDeps;

  constructor(deps: LifecycleEventEmitterDeps) {
    this.#deps = deps;
  }

  meta(ctx: OperationContext | undefined): EventMeta {
    // Built field by field: conditional spreads are costly on the hot path of every pass.
    const meta: Mutable<EventMeta> = {
      eventId: this.#deps.ids.eventId(),
      occurredAt: new Date(this.#deps.clock.now()).toISOString(),
      providerId: this.#deps.providerId,
    };
    if (ctx?.correlationId !== undefined) meta.correlationId = ctx.correlationId;
    if (ctx?.actor !== undefined) meta.actor = ctx.actor;
    return meta;
  }

  workerMeta(
    workerId: string,
    ctx: OperationContext | undefined,
  ): EventMeta & { readonly workerId: string; readonly resourceId?: string } {
    const meta = this.meta(ctx) as Mutable<EventMeta> & { workerId: string };
    meta.workerId = workerId;
    // Every worker event names its life, so two lives under one reused id stay apart.
    const resourceId = ctx?.resourceId ?? this.#deps.registry?.get(workerId)?.resourceId;
    if (resourceId !== undefined) (meta as { resourceId?: string }).resourceId = resourceId;
    return meta;
  }

  /** A publisher failure never fails an operation that already changed the world (SPEC §5). */
  async publish(event: LifecycleEvent): Promise<void> {
    await this.tryPublish(event);
  }

  /**
   * As `publish`, but tells whether the event went out: for an event that is itself the
   * outcome (a warning), to be recorded only once sent and tried again otherwise.
   */
  async tryPublish(event: LifecycleEvent): Promise<boolean> {
    const result = await this.#deps.publisher.publish(event);
    if (result.isOk()) {
      this.#deps.counters.eventsPublished += 1;
      return true;
    } else {
      this.#deps.counters.publishFailures += 1;
      this.#deps.logger.error('event not published', {
        eventId: event.eventId,
        type: event.type,
        error: errorMessage(result.error),
      });
      return false;
    }
  }
}
