import {
  type EventStoreError,
  LIFECYCLE_EVENT_TYPES,
  type LifecycleEvent,
  type LifecycleEventType,
  STATE_OF_EVENT,
  type WorkerEphemeralCleanedUp,
  type WorkerEphemeralPolicyChanged,
  type WorkerEventHistory,
  type WorkerLifeRef,
} from '@hodei/domain';
import { type Kysely, type QueryExecutorProvider, sql } from 'kysely';
import { err, errAsync, ok, okAsync, type Result, ResultAsync } from 'neverthrow';
import type { EventBusDatabase } from '../schema/database.js';
import type { AppendRow } from '../schema/append-statement.js';
import { notifyChannel, qualified } from '../schema/migrations.js';
import { AppendNotifier } from './append-notifier.js';
import { type AppendPool, appendInTransaction, OwnTransactionAppend } from './append-queries.js';
import { decodeCursor, encodeCursor, type LogPosition, START_POSITION } from './cursor.js';
import {
  DEFAULT_MAX_EVENT_BYTES,
  eventColumns,
  type EventRowJson,
  type EventRowOutput,
  type StoredEvent,
  toEventRow,
} from './event-row.js';
import {
  type AppendError,
  classifyDatabaseError,
  type InvalidAppend,
  type QueryError,
} from './event-store.errors.js';
import {
  type CloudEventJson,
  type EventFilter,
  positionOfEvent,
  afterMatching,
  readCloudEventJsonAfter,
} from './filtered-reads.js';
import { GroupCommit } from './group-commit.js';
import { lastOfLife } from './last-of-life.js';
import {
  type PruneError,
  pruneEvents,
  type PruneOptions,
  type PruneReport,
} from './prune-events.js';
import { type EventQuery, selectEvents } from './select-events.js';

export type { AppendPool } from './append-queries.js';

export interface AppendOptions {
  /**
   * The stream's current version (its last `stream_position`, 0 when empty); the append
   * fails with `WrongExpectedVersion` and writes nothing when it differs. Only for appends
   * to a single stream.
   */
  readonly expectedVersion?: number;
  /** A caller's kysely transaction (or any executor) to append in; its commit is the caller's. */
  readonly executor?: QueryExecutorProvider;
}

export interface AppendedEvent {
  readonly eventId: string;
  readonly streamId: string;
  readonly streamPosition: number;
  readonly globalPosition: string;
  readonly transactionId: string;
  readonly cursor: string;
  /** True when the event was already stored: the original position is returned. */
  readonly duplicate: boolean;
}

export interface ReadOptions {
  readonly limit?: number;
}

export interface PostgresEventStoreOptions {
  readonly db: Kysely<EventBusDatabase>;
  /** Default `hodei`. */
  readonly schema?: string;
  /**
   * Wake subscribers with NOTIFY (default true). Appends in a transaction of their own notify
   * after commit, at most once per `notifyIntervalMs` (default 5 ms) during a burst; appends in
   * a caller's transaction notify with its commit.
   */
  readonly notify?: boolean;
  readonly notifyIntervalMs?: number;
  /** Largest accepted event, as its stored JSON (default 64 KiB). */
  readonly maxEventBytes?: number;
  /**
   * The pg pool behind `db`. When given, appends outside a caller's transaction run as named
   * prepared statements straight on it, sparing the query builder and the server's parse on
   * the hottest path; everything else goes through `db`.
   */
  readonly pool?: AppendPool;
  /**
   * Group commit (default true): concurrent appends outside a caller's transaction and without
   * `expectedVersion` are committed together, in call order, one group at a time.
   */
  readonly groupCommit?: boolean;
  /** Most events in one group (default 500); a larger single batch still goes, alone. */
  readonly maxGroupEvents?: number;
  /** Most groups committing at once (default 2); groups in flight never share a stream. */
  readonly maxGroupsInFlight?: number;
}

const DEFAULT_LIMIT = 500;
const STATE_EVENT_TYPES = LIFECYCLE_EVENT_TYPES.filter((type) => type in STATE_OF_EVENT);

/** Why `expectedVersion` is unusable, or null when it is absent or a valid version. */
function invalidExpectedVersion(expected: number | undefined): InvalidAppend | null {
  return expected === undefined || (Number.isSafeInteger(expected) && expected >= 0)
    ? null
    : {
        type: 'InvalidAppend',
        message: `expectedVersion must be a non-negative integer, got ${expected}`,
      };
}

/**
 * The insert-only event log in `<schema>.events` (SPEC §7): appends, idempotent on
 * `event_id`, and the read queries. Every method returns a Result; none throws.
 */
export class PostgresEventStore implements WorkerEventHistory {
  readonly schema: string;
  readonly #db: Kysely<EventBusDatabase>;
  readonly #notify: boolean;
  readonly #maxEventBytes: number;
  readonly #notifier: AppendNotifier | null;
  readonly #own: OwnTransactionAppend;
  readonly #group: GroupCommit | null;

  constructor(options: PostgresEventStoreOptions) {
    this.#db = options.db;
    this.schema = options.schema ?? 'hodei';
    this.#own = new OwnTransactionAppend(this.#db, options.pool ?? null, this.schema);
    this.#group =
      options.groupCommit === false
        ? null
        : new GroupCommit((rows) => this.#own.run(rows, undefined), {
            runGroup: (rows) => this.#own.runGroup(rows),
            ...(options.maxGroupEvents === undefined ? {} : { maxEvents: options.maxGroupEvents }),
            ...(options.maxGroupsInFlight === undefined
              ? {}
              : { maxInFlight: options.maxGroupsInFlight }),
          });
    this.#notify = options.notify ?? true;
    this.#maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.#notifier = this.#notify
      ? new AppendNotifier(
          this.#notifySender(notifyChannel(this.schema)),
          options.notifyIntervalMs ?? 5,
        )
      : null;
  }

  /**
   * Resolves once every append already called in a transaction of its own is answered (group
   * commit's queued and in-flight groups): call it before ending the pool.
   */
  drain(): Promise<void> {
    return this.#group?.drain() ?? Promise.resolve();
  }

  get maxEventBytes(): number {
    return this.#maxEventBytes;
  }

  append(
    event: LifecycleEvent,
    options: AppendOptions = {},
  ): ResultAsync<AppendedEvent, AppendError> {
    return this.appendBatch([event], options).andThen((appended) => {
      const first = appended[0];
      return first === undefined
        ? errAsync({ type: 'InvalidAppend' as const, message: 'nothing was appended' })
        : okAsync(first);
    });
  }

  /**
   * Appends in order, all or nothing, in one statement and one transaction: the caller's
   * when `executor` is given, else its own, maybe shared with concurrent appends (group
   * commit), which commit or fail with it.
   */
  appendBatch(
    events: readonly LifecycleEvent[],
    options: AppendOptions = {},
  ): ResultAsync<AppendedEvent[], AppendError> {
    const rows: EventRowJson[] = [];
    for (const event of events) {
      const row = toEventRow(event, this.#maxEventBytes);
      if (row.isErr()) return errAsync(row.error);
      rows.push(row.value);
    }
    return this.appendRows(rows, options);
  }

  /**
   * `appendBatch` for events already turned into rows by `toEventRow` with this store's
   * `maxEventBytes` (the publisher validates each event up front and so converts it once).
   */
  appendRows(
    rows: readonly EventRowJson[],
    options: AppendOptions = {},
  ): ResultAsync<AppendedEvent[], AppendError> {
    if (rows.length === 0) return okAsync([]);
    const expected = options.expectedVersion;
    const invalid = invalidExpectedVersion(expected);
    if (invalid !== null) return errAsync(invalid);
    if (expected !== undefined && new Set(rows.map((r) => r.row.stream_id)).size > 1) {
      return errAsync({
        type: 'InvalidAppend',
        message: 'expectedVersion applies to appends to a single stream',
      });
    }
    const executor = options.executor;
    const own = executor === undefined;
    const appending =
      executor !== undefined
        ? appendInTransaction(executor, this.schema, rows, expected, this.#notify)
        : this.#group !== null && expected === undefined
          ? this.#group.append(rows)
          : this.#own.run(rows, expected);
    return new ResultAsync(appending).andThen((out) => this.#appended(out, expected, own));
  }

  /**
   * Sends one NOTIFY in a transaction of its own. A NOTIFY takes an xid, so its commit would
   * wait for a WAL flush of its own; it is only a wake-up hint, sent after the events it
   * announces committed, so it commits asynchronously (one simple-protocol round trip).
   */
  #notifySender(channel: string): () => Promise<unknown> {
    const statement = sql.raw(
      `SET LOCAL synchronous_commit TO off; SELECT pg_notify('${channel.replaceAll("'", "''")}', '')`,
    );
    return () => statement.execute(this.#db);
  }

  /** The append function's rows as results; wakes subscribers after an own-transaction append. */
  #appended(
    rowsOut: readonly AppendRow[],
    expected: number | undefined,
    ownTransaction: boolean,
  ): Result<AppendedEvent[], AppendError> {
    const first = rowsOut[0];
    if (first !== undefined && !first.version_ok) {
      const actual = Number(first.actual_version ?? 0);
      return err({
        type: 'WrongExpectedVersion',
        streamId: first.stream_id,
        expectedVersion: expected ?? 0,
        actualVersion: actual,
        message: `stream ${first.stream_id} is at version ${actual}, not ${expected ?? 0}`,
      });
    }
    if (ownTransaction && rowsOut.some((r) => !r.duplicate)) {
      this.#notifier?.request();
    }
    return ok(
      rowsOut.map((r) => {
        const position: LogPosition = {
          transactionId: r.transaction_id ?? '0',
          globalPosition: r.global_position ?? '0',
        };
        return {
          eventId: r.event_id,
          streamId: r.stream_id,
          streamPosition: Number(r.stream_position),
          globalPosition: position.globalPosition,
          transactionId: position.transactionId,
          cursor: encodeCursor(position),
          duplicate: r.duplicate,
        };
      }),
    );
  }

  /**
   * Events after `cursor` (from the start when null) in the global delivery order, only up
   * to the oldest transaction still running, so a writer that commits late is never skipped.
   */
  readFrom(
    cursor: string | null,
    options: ReadOptions = {},
  ): ResultAsync<StoredEvent[], QueryError> {
    const position = cursor === null ? ok(START_POSITION) : decodeCursor(cursor);
    if (position.isErr()) return errAsync(position.error);
    return this.readAfter(position.value, options.limit ?? DEFAULT_LIMIT);
  }

  /**
   * The committed, deliverable events after `position` that match `filter` (all by default),
   * in `(transaction_id, global_position)` order.
   */
  readAfter(
    position: LogPosition,
    limit: number,
    executor: QueryExecutorProvider = this.#db,
    filter: EventFilter = {},
  ): ResultAsync<StoredEvent[], QueryError> {
    return this.#select(
      sql<EventRowOutput>`
        SELECT ${sql.raw(eventColumns('e'))} FROM ${qualified(this.schema, 'events')} e
        WHERE ${afterMatching(position, filter)}
        ORDER BY e.transaction_id, e.global_position
        LIMIT ${limit}`,
      'readFrom',
      executor,
    );
  }

  /** Where `eventId` sits in the log; `undefined` when it is not stored. */
  positionOf(eventId: string): ResultAsync<LogPosition | undefined, QueryError> {
    return positionOfEvent(this.#db, this.schema, eventId);
  }

  /** `readAfter` with each event as its CloudEvents JSON text, rendered in SQL. */
  readCloudEventJsonAfter(
    position: LogPosition,
    filter: EventFilter,
    limit: number,
  ): ResultAsync<CloudEventJson[], QueryError> {
    return readCloudEventJsonAfter(this.#db, this.schema, position, filter, limit);
  }

  /** The cursor after the last deliverable event: reading from it returns only newer events. */
  headCursor(): ResultAsync<string, QueryError> {
    return ResultAsync.fromPromise(
      sql<{ transaction_id: string; global_position: string }>`
        SELECT e.transaction_id::text AS transaction_id, e.global_position::text AS global_position
        FROM ${qualified(this.schema, 'events')} e
        WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`.execute(this.#db),
      (cause) => classifyDatabaseError(cause, 'headCursor'),
    ).map((res) => {
      const row = res.rows[0];
      return encodeCursor(
        row === undefined
          ? START_POSITION
          : { transactionId: row.transaction_id, globalPosition: row.global_position },
      );
    });
  }

  /** A worker's events in stream order, from `fromPosition` (exclusive) on. */
  eventsOfWorker(
    workerId: string,
    options: ReadOptions & {
      readonly providerId?: string;
      readonly afterStreamPosition?: number;
    } = {},
  ): ResultAsync<StoredEvent[], QueryError> {
    const provider =
      options.providerId === undefined ? sql`` : sql`AND provider_id = ${options.providerId}`;
    return this.#select(
      sql<EventRowOutput>`
        SELECT ${sql.raw(eventColumns('e'))} FROM ${qualified(this.schema, 'events')} e
        WHERE stream_id = ${`worker:${workerId}`} AND stream_position > ${options.afterStreamPosition ?? 0}
          ${provider}
        ORDER BY e.stream_position LIMIT ${options.limit ?? DEFAULT_LIMIT}`,
      'eventsOfWorker',
    );
  }

  /** Events of one type, oldest first, after `afterGlobalPosition`. */
  eventsByType(
    type: LifecycleEventType,
    options: ReadOptions & { readonly afterGlobalPosition?: string } = {},
  ): ResultAsync<StoredEvent[], QueryError> {
    return this.#select(
      sql<EventRowOutput>`
        SELECT ${sql.raw(eventColumns('e'))} FROM ${qualified(this.schema, 'events')} e
        WHERE type = ${type} AND global_position > ${options.afterGlobalPosition ?? '0'}::bigint
        ORDER BY e.global_position LIMIT ${options.limit ?? DEFAULT_LIMIT}`,
      'eventsByType',
    );
  }

  /** Events whose `time` is in `[from, to)`, by time then position. */
  eventsInTimeRange(
    from: string,
    to: string,
    options: ReadOptions = {},
  ): ResultAsync<StoredEvent[], QueryError> {
    return this.#select(
      sql<EventRowOutput>`
        SELECT ${sql.raw(eventColumns('e'))} FROM ${qualified(this.schema, 'events')} e
        WHERE time >= ${from}::timestamptz AND time < ${to}::timestamptz
        ORDER BY e.time, e.global_position LIMIT ${options.limit ?? DEFAULT_LIMIT}`,
      'eventsInTimeRange',
    );
  }

  /**
   * Retention: deletes the events of the worker lives that ended (cleaned up, or lost) before
   * `before`, and the GC and orphan reports older than it; never a live worker's events.
   */
  pruneEventsBefore(
    before: Date,
    options: PruneOptions = {},
  ): ResultAsync<PruneReport, PruneError> {
    return pruneEvents(this.#db, this.schema, before, options);
  }

  /** WorkerEventHistory: each worker's last state-changing event of its life. */
  lastStateEvents(
    providerId: string,
    workers: readonly WorkerLifeRef[],
  ): ResultAsync<ReadonlyMap<string, LifecycleEvent>, EventStoreError> {
    return lastOfLife<LifecycleEvent>(
      this.#db,
      this.schema,
      providerId,
      workers,
      STATE_EVENT_TYPES,
      'lastStateEvents',
    );
  }

  /** WorkerEventHistory: each worker's last WorkerEphemeralPolicyChanged of its life. */
  lastPolicyChanges(
    providerId: string,
    workers: readonly WorkerLifeRef[],
  ): ResultAsync<ReadonlyMap<string, WorkerEphemeralPolicyChanged>, EventStoreError> {
    return lastOfLife<WorkerEphemeralPolicyChanged>(
      this.#db,
      this.schema,
      providerId,
      workers,
      ['WorkerEphemeralPolicyChanged'],
      'lastPolicyChanges',
    );
  }

  /** WorkerEventHistory: each worker's WorkerEphemeralCleanedUp of its life. */
  lastCleanups(
    providerId: string,
    workers: readonly WorkerLifeRef[],
  ): ResultAsync<ReadonlyMap<string, WorkerEphemeralCleanedUp>, EventStoreError> {
    return lastOfLife<WorkerEphemeralCleanedUp>(
      this.#db,
      this.schema,
      providerId,
      workers,
      ['WorkerEphemeralCleanedUp'],
      'lastCleanups',
    );
  }

  #select(
    query: EventQuery,
    operation: string,
    executor: QueryExecutorProvider = this.#db,
  ): ResultAsync<StoredEvent[], QueryError> {
    return selectEvents(query, operation, executor);
  }
}
