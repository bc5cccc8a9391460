import { performance } from 'node:perf_hooks';
import type { Logger } from '@hodei/domain';
import { type Kysely, sql } from 'kysely';
import type { EventBusDatabase } from '../schema/database.js';
import { qualified } from '../schema/migrations.js';
import { decodeCursor, encodeCursor, type LogPosition, START_POSITION } from '../store/cursor.js';
import type { EventRowOutput, StoredEvent } from '../store/event-row.js';
import { eventColumns, fromEventRow } from '../store/event-row.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import type {
  EventHandler,
  RetryPolicy,
  SubscribeOptions,
  SubscriptionHandle,
  SubscriptionState,
} from './subscription.types.js';

export interface SubscriptionRunnerDeps {
  readonly db: Kysely<EventBusDatabase>;
  readonly store: PostgresEventStore;
  readonly schema: string;
  readonly owner: string;
  readonly logger: Logger;
}

type Outcome = { readonly ok: true } | { readonly ok: false; readonly error: string };

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 200, maxDelayMs: 30_000 };
const MIN_POLL_MS = 5;

const describe = (cause: unknown): string =>
  cause instanceof Error
    ? cause.message
    : typeof cause === 'string'
      ? cause
      : JSON.stringify(cause);

const isResult = (value: unknown): value is { isErr(): boolean; error?: unknown } =>
  typeof value === 'object' &&
  value !== null &&
  'isErr' in value &&
  typeof value.isErr === 'function';

/**
 * One named subscription's delivery loop: lease, read below the xmin horizon, deliver with
 * timeout and retries, dead-letter, checkpoint. Nothing it meets (database down, handler
 * throwing or hanging) ends the loop; only `stop()` does.
 */
export class SubscriptionRunner implements SubscriptionHandle {
  readonly name: string;
  readonly #deps: SubscriptionRunnerDeps;
  readonly #handler: EventHandler;
  readonly #options: Required<Omit<SubscribeOptions, 'retry' | 'handler' | 'name'>>;
  readonly #retry: RetryPolicy;
  #position: LogPosition = START_POSITION;
  #savedPosition: LogPosition = START_POSITION;
  #leased = false;
  /** performance.now() after which this process no longer trusts its lease without renewing. */
  #leaseDeadline = 0;
  #stopped = false;
  #woken = false;
  #wakeWaiter: (() => void) | null = null;
  #current: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #leaseTimer: NodeJS.Timeout | null = null;
  #delivered = 0;
  #failures = 0;
  #deadLettered = 0;
  #lastError: string | null = null;
  #loggedError = false;

  constructor(deps: SubscriptionRunnerDeps, options: SubscribeOptions) {
    this.name = options.name;
    this.#deps = deps;
    this.#handler = options.handler;
    this.#options = {
      from: options.from ?? 'start',
      batchSize: options.batchSize ?? 200,
      handlerTimeoutMs: options.handlerTimeoutMs ?? 30_000,
      abortGraceMs: options.abortGraceMs ?? 1_000,
      leaseMs: options.leaseMs ?? 30_000,
      idlePollMs: options.idlePollMs ?? 1_000,
    };
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  start(): void {
    this.#loop ??= this.#run();
    this.#leaseTimer = setInterval(() => void this.#renewLease(), this.#options.leaseMs / 3);
  }

  state(): SubscriptionState {
    return {
      name: this.name,
      active: this.#leased,
      cursor: encodeCursor(this.#position),
      delivered: this.#delivered,
      failures: this.#failures,
      deadLettered: this.#deadLettered,
      lastError: this.#lastError,
    };
  }

  wake(): void {
    this.#woken = true;
    this.#wakeWaiter?.();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#leaseTimer !== null) clearInterval(this.#leaseTimer);
    this.#current?.abort(new Error('subscription stopped'));
    this.wake();
    await this.#loop;
    if (this.#leased) {
      await this.#saveCheckpoint();
      await sql`
        UPDATE ${qualified(this.#deps.schema, 'subscriptions')}
        SET lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE name = ${this.name} AND lease_owner = ${this.#deps.owner}`
        .execute(this.#deps.db)
        .catch(() => undefined);
      this.#leased = false;
    }
  }

  async #run(): Promise<void> {
    let pollMs = MIN_POLL_MS;
    while (!this.#stopped) {
      if (!this.#holdsLease() && !(await this.#acquireLease())) {
        await this.#waitForWake(Math.min(this.#options.leaseMs / 3, 2_000));
        continue;
      }
      const batch = await this.#deps.store.readAfter(this.#position, this.#options.batchSize);
      if (batch.isErr()) {
        this.#noteError(`reading events: ${batch.error.message}`);
        await this.#waitForWake(Math.min((pollMs = Math.min(pollMs * 2, 1_000)), 1_000));
        continue;
      }
      this.#noteHealthy();
      const events = batch.value;
      for (const stored of events) {
        if (this.#stopped || !this.#holdsLease()) break;
        const done = await this.#deliver(stored, 0);
        if (!done) break;
        this.#position = {
          transactionId: stored.transactionId,
          globalPosition: stored.globalPosition,
        };
      }
      if (events.length > 0) {
        await this.#saveCheckpoint();
        pollMs = MIN_POLL_MS;
        if (events.length === this.#options.batchSize) continue;
      }
      if (this.#stopped) break;
      await this.#processReplays();
      if (this.#woken) {
        this.#woken = false;
        pollMs = MIN_POLL_MS;
        continue;
      }
      await this.#waitForWake(pollMs);
      pollMs = Math.min(pollMs * 2, this.#options.idlePollMs);
    }
  }

  /** Delivers with retries; false when the subscription stopped or lost its lease meanwhile. */
  async #deliver(stored: StoredEvent, previousAttempts: number): Promise<boolean> {
    const firstFailedAt = new Date().toISOString();
    let attempt = previousAttempts;
    for (;;) {
      attempt += 1;
      const outcome = await this.#invoke(stored, attempt);
      if (outcome.ok) {
        this.#delivered += 1;
        return true;
      }
      this.#failures += 1;
      this.#lastError = outcome.error;
      if (this.#stopped) return false;
      if (attempt - previousAttempts >= this.#retry.maxAttempts) {
        return this.#deadLetter(stored, outcome.error, attempt - previousAttempts, firstFailedAt);
      }
      const base = Math.min(
        this.#retry.initialDelayMs * 2 ** (attempt - previousAttempts - 1),
        this.#retry.maxDelayMs,
      );
      await this.#sleepUnlessStopped(base * (0.8 + Math.random() * 0.4));
      if (this.#stopped || !this.#holdsLease()) return false;
    }
  }

  /**
   * False once the lease may have expired in the database (renewals failing for most of
   * `leaseMs`): another consumer may have taken over, so this one stops delivering.
   */
  #holdsLease(): boolean {
    if (this.#leased && performance.now() > this.#leaseDeadline) {
      this.#leased = false;
      this.#deps.logger.warn('subscription lease could not be renewed in time; pausing', {
        subscription: this.name,
      });
    }
    return this.#leased;
  }

  #extendLease(sentAt: number): void {
    this.#leaseDeadline = sentAt + this.#options.leaseMs * 0.8;
  }

  async #invoke(stored: StoredEvent, attempt: number): Promise<Outcome> {
    const controller = new AbortController();
    this.#current = controller;
    const timer = setTimeout(
      () =>
        controller.abort(new Error(`handler timed out after ${this.#options.handlerTimeoutMs} ms`)),
      this.#options.handlerTimeoutMs,
    );
    const run: Promise<Outcome> = Promise.resolve()
      .then(() =>
        this.#handler(stored, { signal: controller.signal, attempt, subscription: this.name }),
      )
      .then(
        (value): Outcome =>
          isResult(value) && value.isErr()
            ? { ok: false, error: describe(value.error) }
            : { ok: true },
        (cause: unknown): Outcome => ({ ok: false, error: describe(cause) }),
      );
    const aborted = new Promise<Outcome>((resolve) => {
      const onAbort = () => resolve({ ok: false, error: describe(controller.signal.reason) });
      if (controller.signal.aborted) onAbort();
      else controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    const outcome = await Promise.race([run, aborted]);
    clearTimeout(timer);
    if (controller.signal.aborted) {
      // Give the handler a moment to honour the abort, so a retry never overlaps it.
      await Promise.race([run, new Promise((r) => setTimeout(r, this.#options.abortGraceMs))]);
    }
    this.#current = null;
    return outcome;
  }

  /** Parks the event in dead_letters; retries the insert until it lands or the loop stops. */
  async #deadLetter(
    stored: StoredEvent,
    error: string,
    attempts: number,
    firstFailedAt: string,
  ): Promise<boolean> {
    let delay = 100;
    while (!this.#stopped) {
      try {
        await sql`
          INSERT INTO ${qualified(this.#deps.schema, 'dead_letters')}
            (subscription_name, event_id, global_position, transaction_id, error, attempts,
             first_failed_at, last_failed_at)
          VALUES (${this.name}, ${stored.event.eventId}::uuid, ${stored.globalPosition}::bigint,
            ${stored.transactionId}::xid8, ${error}, ${attempts}, ${firstFailedAt}::timestamptz, now())
          ON CONFLICT (subscription_name, event_id) DO UPDATE SET
            error = excluded.error,
            attempts = ${qualified(this.#deps.schema, 'dead_letters')}.attempts + excluded.attempts,
            last_failed_at = excluded.last_failed_at,
            replay_requested_at = NULL,
            resolved_at = NULL`.execute(this.#deps.db);
        this.#deadLettered += 1;
        this.#deps.logger.warn('event moved to dead letters', {
          subscription: this.name,
          eventId: stored.event.eventId,
          attempts,
          error,
        });
        return true;
      } catch (cause) {
        this.#noteError(`dead-lettering ${stored.event.eventId}: ${describe(cause)}`);
        await this.#sleepUnlessStopped(delay);
        delay = Math.min(delay * 2, 2_000);
      }
    }
    return false;
  }

  async #processReplays(): Promise<void> {
    let rows: (EventRowOutput & { attempts: number })[];
    try {
      const res = await sql<EventRowOutput & { attempts: number }>`
        SELECT ${sql.raw(eventColumns('e'))},
          d.attempts
        FROM ${qualified(this.#deps.schema, 'dead_letters')} d
        JOIN ${qualified(this.#deps.schema, 'events')} e ON e.event_id = d.event_id
        WHERE d.subscription_name = ${this.name} AND d.replay_requested_at IS NOT NULL
          AND d.resolved_at IS NULL
        ORDER BY e.transaction_id, e.global_position
        LIMIT 100`.execute(this.#deps.db);
      rows = res.rows;
    } catch (cause) {
      this.#noteError(`reading dead letters: ${describe(cause)}`);
      return;
    }
    for (const row of rows) {
      if (this.#stopped || !this.#holdsLease()) return;
      const stored = fromEventRow(row);
      if (stored.isErr()) continue;
      const before = this.#deadLettered;
      const done = await this.#deliver(stored.value, 0);
      if (!done) return;
      if (this.#deadLettered === before) {
        await sql`
          UPDATE ${qualified(this.#deps.schema, 'dead_letters')} SET resolved_at = now()
          WHERE subscription_name = ${this.name} AND event_id = ${row.event_id}::uuid`
          .execute(this.#deps.db)
          .catch((cause: unknown) => this.#noteError(`resolving dead letter: ${describe(cause)}`));
      }
    }
  }

  async #acquireLease(): Promise<boolean> {
    let start = START_POSITION;
    if (this.#options.from === 'end') {
      const head = await this.#deps.store.headCursor();
      if (head.isErr()) {
        this.#noteError(`reading the head: ${head.error.message}`);
        return false;
      }
      start = decodeCursor(head.value).unwrapOr(START_POSITION);
    }
    const sentAt = performance.now();
    try {
      const res = await sql<{ transaction_id: string; position: string }>`
        INSERT INTO ${qualified(this.#deps.schema, 'subscriptions')} AS s
          (name, checkpoint_transaction_id, checkpoint_position, lease_owner, lease_expires_at)
        VALUES (${this.name}, ${start.transactionId}::xid8, ${start.globalPosition}::bigint,
          ${this.#deps.owner}, now() + ${this.#options.leaseMs} * interval '1 millisecond')
        ON CONFLICT (name) DO UPDATE SET
          lease_owner = excluded.lease_owner,
          lease_expires_at = excluded.lease_expires_at,
          updated_at = now()
        WHERE s.lease_owner IS NULL OR s.lease_owner = excluded.lease_owner
          OR s.lease_expires_at < now()
        RETURNING s.checkpoint_transaction_id::text AS transaction_id,
          s.checkpoint_position::text AS position`.execute(this.#deps.db);
      const row = res.rows[0];
      this.#noteHealthy();
      if (row === undefined) return false;
      const stored = { transactionId: row.transaction_id, globalPosition: row.position };
      // Nobody moved the checkpoint since this process saved it: what it delivered since (kept
      // in memory while the database was away) stays delivered.
      const unchanged =
        stored.transactionId === this.#savedPosition.transactionId &&
        stored.globalPosition === this.#savedPosition.globalPosition;
      if (!unchanged || this.#position === START_POSITION) this.#position = stored;
      this.#savedPosition = stored;
      this.#leased = true;
      this.#extendLease(sentAt);
      this.#deps.logger.info('subscription active', { subscription: this.name });
      return true;
    } catch (cause) {
      this.#noteError(`taking the lease: ${describe(cause)}`);
      return false;
    }
  }

  async #renewLease(): Promise<void> {
    if (!this.#leased || this.#stopped) return;
    const sentAt = performance.now();
    try {
      const res = await sql`
        UPDATE ${qualified(this.#deps.schema, 'subscriptions')}
        SET lease_expires_at = now() + ${this.#options.leaseMs} * interval '1 millisecond'
        WHERE name = ${this.name} AND lease_owner = ${this.#deps.owner}`.execute(this.#deps.db);
      if (res.numAffectedRows === 0n) this.#loseLease();
      else this.#extendLease(sentAt);
    } catch (cause) {
      this.#noteError(`renewing the lease: ${describe(cause)}`);
    }
  }

  async #saveCheckpoint(): Promise<void> {
    const p = this.#position;
    if (
      p.transactionId === this.#savedPosition.transactionId &&
      p.globalPosition === this.#savedPosition.globalPosition
    ) {
      return;
    }
    const sentAt = performance.now();
    try {
      const res = await sql`
        UPDATE ${qualified(this.#deps.schema, 'subscriptions')}
        SET checkpoint_transaction_id = ${p.transactionId}::xid8,
          checkpoint_position = ${p.globalPosition}::bigint,
          lease_expires_at = now() + ${this.#options.leaseMs} * interval '1 millisecond',
          updated_at = now()
        WHERE name = ${this.name} AND lease_owner = ${this.#deps.owner}`.execute(this.#deps.db);
      if (res.numAffectedRows === 0n) {
        this.#loseLease();
        return;
      }
      this.#savedPosition = p;
      this.#extendLease(sentAt);
    } catch (cause) {
      // Kept in memory and saved with the next batch: no event is delivered twice for this.
      this.#noteError(`saving the checkpoint: ${describe(cause)}`);
    }
  }

  #loseLease(): void {
    if (!this.#leased) return;
    this.#leased = false;
    this.#deps.logger.warn('subscription lease taken over by another consumer', {
      subscription: this.name,
    });
  }

  #noteError(message: string): void {
    this.#lastError = message;
    if (!this.#loggedError) {
      this.#loggedError = true;
      this.#deps.logger.warn('subscription is retrying', {
        subscription: this.name,
        error: message,
      });
    }
  }

  #noteHealthy(): void {
    if (this.#loggedError) {
      this.#loggedError = false;
      this.#deps.logger.info('subscription recovered', { subscription: this.name });
    }
  }

  #waitForWake(ms: number): Promise<void> {
    if (this.#woken || this.#stopped) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.#wakeWaiter = null;
        this.#woken = false;
        resolve();
      };
      timer = setTimeout(done, ms);
      this.#wakeWaiter = done;
    });
  }

  #sleepUnlessStopped(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      let check: NodeJS.Timeout | undefined = undefined;
      const finish = (): void => {
        clearTimeout(timer);
        clearInterval(check);
        resolve();
      };
      timer = setTimeout(finish, ms);
      check = setInterval(() => {
        if (this.#stopped) finish();
      }, 50);
    });
  }
}
