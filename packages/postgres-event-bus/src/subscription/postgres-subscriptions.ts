import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '@hodei/domain';
import { type Kysely, sql } from 'kysely';
import { err, ok, type Result, ResultAsync } from 'neverthrow';
import type { EventBusDatabase } from '../schema/database.js';
import { notifyChannel, qualified } from '../schema/migrations.js';
import { classifyDatabaseError, type QueryError } from '../store/event-store.errors.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { SubscriptionRunner } from './subscription-runner.js';
import type { DeadLetter, SubscribeOptions, SubscriptionHandle } from './subscription.types.js';
import {
  type ListenerState,
  WakeUpListener,
  type WakeUpListenerOptions,
} from './wake-up-listener.js';

export interface SubscriptionAlreadyRunning {
  readonly type: 'SubscriptionAlreadyRunning';
  readonly name: string;
  readonly message: string;
}

export interface PostgresSubscriptionsOptions {
  readonly db: Kysely<EventBusDatabase>;
  readonly store: PostgresEventStore;
  readonly schema: string;
  readonly connectionString: string;
  readonly logger: Logger;
  /** Open the LISTEN connection for wake-ups (default true); polling alone still delivers. */
  readonly listen?: boolean;
  readonly listener?: Pick<
    WakeUpListenerOptions,
    'initialBackoffMs' | 'maxBackoffMs' | 'heartbeatMs' | 'heartbeatTimeoutMs'
  >;
  readonly applicationName?: string;
}

/** Named subscriptions of one process, sharing one LISTEN connection. */
export class PostgresSubscriptions {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly #options: PostgresSubscriptionsOptions;
  readonly #runners = new Map<string, SubscriptionRunner>();
  #listener: WakeUpListener | null = null;

  constructor(options: PostgresSubscriptionsOptions) {
    this.#options = options;
  }

  /** The wake-up connection's state; `null` when listening is off or nothing subscribed yet. */
  get listener(): {
    readonly state: ListenerState;
    readonly reconnects: number;
    readonly backendPid: number | null;
  } | null {
    const l = this.#listener;
    return l === null
      ? null
      : { state: l.state, reconnects: l.reconnects, backendPid: l.backendPid };
  }

  subscribe(options: SubscribeOptions): Result<SubscriptionHandle, SubscriptionAlreadyRunning> {
    if (this.#runners.has(options.name)) {
      return err({
        type: 'SubscriptionAlreadyRunning',
        name: options.name,
        message: `subscription ${options.name} already runs in this process`,
      });
    }
    const runner = new SubscriptionRunner(
      {
        db: this.#options.db,
        store: this.#options.store,
        schema: this.#options.schema,
        owner: this.owner,
        logger: this.#options.logger,
      },
      options,
    );
    this.#runners.set(options.name, runner);
    const listener = this.#ensureListener();
    const unsubscribe = listener?.onWake(() => runner.wake());
    runner.start();
    const stop = async (): Promise<void> => {
      unsubscribe?.();
      await runner.stop();
      this.#runners.delete(options.name);
    };
    return ok({
      name: runner.name,
      state: () => runner.state(),
      wake: () => runner.wake(),
      stop,
    });
  }

  deadLetters(subscription: string): ResultAsync<DeadLetter[], QueryError> {
    return ResultAsync.fromPromise(
      sql<{
        event_id: string;
        global_position: string;
        error: string;
        attempts: number;
        first_failed_at: Date;
        last_failed_at: Date;
        replay_requested_at: Date | null;
        resolved_at: Date | null;
      }>`
        SELECT event_id::text, global_position::text, error, attempts, first_failed_at,
          last_failed_at, replay_requested_at, resolved_at
        FROM ${qualified(this.#options.schema, 'dead_letters')} d
        WHERE d.subscription_name = ${subscription}
        ORDER BY d.transaction_id, d.global_position`.execute(this.#options.db),
      (cause) => classifyDatabaseError(cause, 'deadLetters'),
    ).map((res) =>
      res.rows.map((r) => ({
        subscription,
        eventId: r.event_id,
        globalPosition: r.global_position,
        error: r.error,
        attempts: r.attempts,
        firstFailedAt: r.first_failed_at.toISOString(),
        lastFailedAt: r.last_failed_at.toISOString(),
        replayRequested: r.replay_requested_at !== null,
        resolved: r.resolved_at !== null,
      })),
    );
  }

  /**
   * Asks the subscription's active consumer to deliver its unresolved dead letters again (all,
   * or those named), oldest first. Returns how many were queued for replay.
   */
  replayDeadLetters(
    subscription: string,
    eventIds?: readonly string[],
  ): ResultAsync<number, QueryError> {
    const only = eventIds === undefined ? sql`` : sql`AND event_id = ANY(${[...eventIds]}::uuid[])`;
    return ResultAsync.fromPromise(
      sql`
        UPDATE ${qualified(this.#options.schema, 'dead_letters')} SET replay_requested_at = now()
        WHERE subscription_name = ${subscription} AND resolved_at IS NULL ${only}`.execute(
        this.#options.db,
      ),
      (cause) => classifyDatabaseError(cause, 'replayDeadLetters'),
    ).map((res) => {
      this.#runners.get(subscription)?.wake();
      return Number(res.numAffectedRows ?? 0n);
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#runners.values()].map((r) => r.stop()));
    this.#runners.clear();
    await this.#listener?.close();
    this.#listener = null;
  }

  #ensureListener(): WakeUpListener | null {
    if (this.#options.listen === false) return null;
    if (this.#listener === null) {
      this.#listener = new WakeUpListener({
        connectionString: this.#options.connectionString,
        channel: notifyChannel(this.#options.schema),
        logger: this.#options.logger,
        ...(this.#options.applicationName === undefined
          ? {}
          : { applicationName: `${this.#options.applicationName}-listener` }),
        ...this.#options.listener,
      });
      this.#listener.start();
    }
    return this.#listener;
  }
}
