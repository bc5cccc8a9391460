import { type Logger, silentLogger } from '@hodei/domain';
import { Kysely, PostgresDialect } from 'kysely';
import { err, ok, type Result, ResultAsync } from 'neverthrow';
import pg from 'pg';
import type { EventBusDatabase } from './schema/database.js';
import { isValidSchemaName, migrateSchema } from './schema/migrations.js';
import {
  classifyDatabaseError,
  type EventStoreFailure,
  type EventStoreUnavailable,
} from './store/event-store.errors.js';
import { PostgresEventStore } from './store/postgres-event-store.js';
import { PostgresSubscriptions } from './subscription/postgres-subscriptions.js';
import type { WakeUpListenerOptions } from './subscription/wake-up-listener.js';

export interface EventBusOptions {
  readonly connectionString: string;
  /** Schema of the bus's tables (default `hodei`). */
  readonly schema?: string;
  /** NOTIFY on append (default true); turn off behind PgBouncer in transaction mode. */
  readonly notify?: boolean;
  /** During bursts, at most one NOTIFY per this many milliseconds (default 5). */
  readonly notifyIntervalMs?: number;
  /** LISTEN for wake-ups (default true); polling guarantees delivery either way. */
  readonly listen?: boolean;
  /** Pool size (default 10); the listener takes one more connection. */
  readonly poolSize?: number;
  readonly applicationName?: string;
  readonly maxEventBytes?: number;
  /**
   * Group commit (default true): concurrent appends in transactions of their own commit
   * together, one group at a time, in call order.
   */
  readonly groupCommit?: boolean;
  /** Most events in one group (default 500). */
  readonly maxGroupEvents?: number;
  /** Most groups committing at once (default 2); groups in flight never share a stream. */
  readonly maxGroupsInFlight?: number;
  readonly logger?: Logger;
  readonly listener?: Pick<
    WakeUpListenerOptions,
    'initialBackoffMs' | 'maxBackoffMs' | 'heartbeatMs' | 'heartbeatTimeoutMs'
  >;
}

export interface InvalidEventBusConfig {
  readonly type: 'InvalidEventBusConfig';
  readonly message: string;
}

export type MigrationError = EventStoreUnavailable | EventStoreFailure;

/**
 * One per process: the pool, the store, the subscriptions and their LISTEN connection.
 * Creating it does no I/O; `ready()` runs the migrations (once) and is safe to call again.
 */
export class PostgresEventBus {
  readonly schema: string;
  readonly db: Kysely<EventBusDatabase>;
  readonly store: PostgresEventStore;
  readonly subscriptions: PostgresSubscriptions;
  readonly #pool: pg.Pool;
  #migrated = false;
  #migrating: Promise<Result<void, MigrationError>> | null = null;

  private constructor(options: EventBusOptions, schema: string) {
    this.schema = schema;
    const logger = options.logger ?? silentLogger;
    this.#pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      application_name: options.applicationName ?? 'hodei-event-bus',
    });
    // An idle client dropped by the server must not crash the process; the pool replaces it.
    this.#pool.on('error', () => undefined);
    // A checked-out client whose connection drops emits 'error' with nobody listening; the
    // query in flight fails on its own, so the event only needs a listener.
    this.#pool.on('connect', (client) => client.on('error', () => undefined));
    this.db = new Kysely<EventBusDatabase>({ dialect: new PostgresDialect({ pool: this.#pool }) });
    this.store = new PostgresEventStore({
      db: this.db,
      pool: this.#pool,
      schema,
      ...(options.notify === undefined ? {} : { notify: options.notify }),
      ...(options.notifyIntervalMs === undefined
        ? {}
        : { notifyIntervalMs: options.notifyIntervalMs }),
      ...(options.maxEventBytes === undefined ? {} : { maxEventBytes: options.maxEventBytes }),
      ...(options.groupCommit === undefined ? {} : { groupCommit: options.groupCommit }),
      ...(options.maxGroupEvents === undefined ? {} : { maxGroupEvents: options.maxGroupEvents }),
      ...(options.maxGroupsInFlight === undefined
        ? {}
        : { maxGroupsInFlight: options.maxGroupsInFlight }),
    });
    this.subscriptions = new PostgresSubscriptions({
      db: this.db,
      store: this.store,
      schema,
      connectionString: options.connectionString,
      logger,
      ...(options.listen === undefined ? {} : { listen: options.listen }),
      ...(options.listener === undefined ? {} : { listener: options.listener }),
      ...(options.applicationName === undefined
        ? {}
        : { applicationName: options.applicationName }),
    });
  }

  static create(options: EventBusOptions): Result<PostgresEventBus, InvalidEventBusConfig> {
    const schema = options.schema ?? 'hodei';
    if (!isValidSchemaName(schema)) {
      return err({
        type: 'InvalidEventBusConfig',
        message: `schema must match ^[a-z_][a-z0-9_]{0,50}$, got ${JSON.stringify(schema)}`,
      });
    }
    return ok(new PostgresEventBus(options, schema));
  }

  get migrated(): boolean {
    return this.#migrated;
  }

  /** Runs pending migrations under an advisory lock; a no-op once it succeeded. */
  ready(): ResultAsync<void, MigrationError> {
    if (this.#migrated) return new ResultAsync(Promise.resolve(ok(undefined)));
    const migrating = (this.#migrating ??= this.#migrate());
    return new ResultAsync(migrating);
  }

  async #migrate(): Promise<Result<void, MigrationError>> {
    let result: Result<void, MigrationError>;
    try {
      const set = await migrateSchema(this.db, this.schema);
      result =
        set.error === undefined ? ok(undefined) : err(classifyDatabaseError(set.error, 'migrate'));
    } catch (cause) {
      result = err(classifyDatabaseError(cause, 'migrate'));
    }
    this.#migrating = null;
    if (result.isOk()) this.#migrated = true;
    return result;
  }

  /**
   * Lets the appends already called finish (each caller answered by its commit), stops the
   * subscriptions and the listener, then closes the pool.
   */
  async close(): Promise<void> {
    await this.store.drain();
    await this.subscriptions.close();
    await this.db.destroy().catch(() => undefined);
  }
}
