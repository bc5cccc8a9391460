import type { LifecycleEventType } from '@hodei/domain';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { ResultAsync } from 'neverthrow';
import type { EventBusDatabase } from '../schema/database.js';
import { qualified } from '../schema/migrations.js';
import { encodeCursor, type LogPosition } from '../store/cursor.js';
import { classifyDatabaseError, type QueryError } from '../store/event-store.errors.js';
import type { StoredEvent } from '../store/event-row.js';
import type { Webhook, WebhookDeadLetter } from './webhook.types.js';

/** The subscription that delivers a webhook. */
export const subscriptionOf = (id: string): string => `webhook:${id}`;

/** What a delivery needs of a webhook. */
export interface WebhookTarget {
  readonly id: string;
  readonly url: string;
  readonly types: readonly LifecycleEventType[] | null;
  readonly secret: string;
}

interface WebhookRow {
  id: string;
  url: string;
  types: LifecycleEventType[] | null;
  created_at: Date;
  delivered: string;
  failures: string;
  last_delivered_at: Date | null;
  last_error: string | null;
  t: string | null;
  g: string | null;
  active: boolean | null;
  dead_lettered: number;
}

const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id,
  url: r.url,
  types: r.types,
  createdAt: r.created_at.toISOString(),
  delivery: {
    cursor: encodeCursor({ transactionId: r.t ?? '0', globalPosition: r.g ?? '0' }),
    delivered: Number(r.delivered),
    failures: Number(r.failures),
    deadLettered: r.dead_lettered,
    lastDeliveredAt: r.last_delivered_at?.toISOString() ?? null,
    lastError: r.last_error,
    active: r.active === true,
  },
});

/** The SQL of the webhooks engine; every method returns a Result and never throws. */
export class WebhookQueries {
  constructor(
    private readonly db: Kysely<EventBusDatabase>,
    private readonly schema: string,
  ) {}

  #t(name: string) {
    return qualified(this.schema, name);
  }

  #run<R>(query: RawBuilder<R>, operation: string): ResultAsync<R[], QueryError> {
    return ResultAsync.fromPromise(query.execute(this.db), (cause) =>
      classifyDatabaseError(cause, operation),
    ).map((res) => res.rows);
  }

  /**
   * Stores the webhook and its subscription, whose checkpoint is the log head now, in one
   * statement: the events appended from then on are delivered, none before.
   */
  insert(target: WebhookTarget): ResultAsync<Webhook, QueryError> {
    const types = target.types === null ? null : [...target.types];
    return this.#run(
      sql<WebhookRow>`
        WITH head AS (
          SELECT e.transaction_id, e.global_position FROM ${this.#t('events')} e
          WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1
        ), w AS (
          INSERT INTO ${this.#t('webhooks')} (id, url, types, secret)
          VALUES (${target.id}::uuid, ${target.url}, ${types}::text[], ${target.secret})
          RETURNING *
        ), s AS (
          INSERT INTO ${this.#t('subscriptions')} (name, checkpoint_transaction_id, checkpoint_position)
          SELECT ${subscriptionOf(target.id)},
            coalesce((SELECT transaction_id FROM head), '0'::xid8),
            coalesce((SELECT global_position FROM head), 0)
          RETURNING checkpoint_transaction_id, checkpoint_position
        )
        SELECT w.id::text, w.url, w.types, w.created_at, w.delivered::text, w.failures::text,
          w.last_delivered_at, w.last_error, s.checkpoint_transaction_id::text AS t,
          s.checkpoint_position::text AS g, false AS active, 0 AS dead_lettered
        FROM w, s`,
      'createWebhook',
    ).map((rows) => rows.map(toWebhook)[0] as Webhook);
  }

  /** Every webhook (or one), oldest first, with its delivery state. */
  list(id?: string): ResultAsync<Webhook[], QueryError> {
    const only = id === undefined ? sql`` : sql`WHERE w.id = ${id}::uuid`;
    return this.#run(
      sql<WebhookRow>`
        SELECT w.id::text, w.url, w.types, w.created_at, w.delivered::text, w.failures::text,
          w.last_delivered_at, w.last_error, s.checkpoint_transaction_id::text AS t,
          s.checkpoint_position::text AS g,
          s.lease_owner IS NOT NULL AND s.lease_expires_at > now() AS active,
          (SELECT count(*)::int FROM ${this.#t('dead_letters')} d
           WHERE d.subscription_name = 'webhook:' || w.id::text AND d.resolved_at IS NULL)
            AS dead_lettered
        FROM ${this.#t('webhooks')} w
        LEFT JOIN ${this.#t('subscriptions')} s ON s.name = 'webhook:' || w.id::text
        ${only}
        ORDER BY w.created_at, w.id`,
      'listWebhooks',
    ).map((rows) => rows.map(toWebhook));
  }

  /** What the deliveries need, of every webhook (or of one). */
  targets(id?: string): ResultAsync<WebhookTarget[], QueryError> {
    const only = id === undefined ? sql`` : sql`WHERE id = ${id}::uuid`;
    return this.#run(
      sql<WebhookTarget>`
        SELECT id::text, url, types, secret FROM ${this.#t('webhooks')} ${only}`,
      'webhookTargets',
    );
  }

  /** True when it was there. */
  remove(id: string): ResultAsync<boolean, QueryError> {
    return this.#run(
      sql<{ id: string }>`
        DELETE FROM ${this.#t('webhooks')} WHERE id = ${id}::uuid RETURNING id::text`,
      'deleteWebhook',
    ).map((rows) => rows.length > 0);
  }

  /**
   * The subscriptions (and their dead letters) of webhooks deleted, once no process holds them:
   * a process still delivering one removes it when it notices the deletion.
   */
  removeLeftovers(): ResultAsync<void, QueryError> {
    return this.#run(
      sql`
        WITH gone AS (
          DELETE FROM ${this.#t('subscriptions')} s
          WHERE s.name LIKE 'webhook:%'
            AND (s.lease_owner IS NULL OR s.lease_expires_at < now())
            AND NOT EXISTS (SELECT 1 FROM ${this.#t('webhooks')} w
                            WHERE 'webhook:' || w.id::text = s.name)
          RETURNING s.name
        )
        DELETE FROM ${this.#t('dead_letters')} d
        WHERE d.subscription_name LIKE 'webhook:%'
          AND NOT EXISTS (SELECT 1 FROM ${this.#t('webhooks')} w
                          WHERE 'webhook:' || w.id::text = d.subscription_name)
          AND (d.subscription_name IN (SELECT name FROM gone)
               OR NOT EXISTS (SELECT 1 FROM ${this.#t('subscriptions')} s
                              WHERE s.name = d.subscription_name))`,
      'removeWebhookLeftovers',
    ).map(() => undefined);
  }

  count(): ResultAsync<number, QueryError> {
    return this.#run(
      sql<{ n: number }>`SELECT count(*)::int AS n FROM ${this.#t('webhooks')}`,
      'countWebhooks',
    ).map((rows) => rows[0]?.n ?? 0);
  }

  /**
   * Parks an event in the webhook's dead letters at once (its URL is refused: retrying cannot
   * help), as the subscription does after its last try.
   */
  deadLetter(id: string, stored: StoredEvent, error: string): ResultAsync<void, QueryError> {
    return this.#run(
      sql`
        INSERT INTO ${this.#t('dead_letters')} AS d
          (subscription_name, event_id, global_position, transaction_id, error, attempts,
           first_failed_at, last_failed_at)
        VALUES (${subscriptionOf(id)}, ${stored.event.eventId}::uuid,
          ${stored.globalPosition}::bigint, ${stored.transactionId}::xid8, ${error}, 1, now(), now())
        ON CONFLICT (subscription_name, event_id) DO UPDATE SET
          error = excluded.error, attempts = d.attempts + 1, last_failed_at = now(),
          replay_requested_at = NULL, resolved_at = NULL`,
      'deadLetterWebhookEvent',
    ).map(() => undefined);
  }

  /**
   * A 2xx: counts it, clears the error, and resolves the event's dead letter if it had one.
   * False when the webhook is gone (deleted by another process).
   */
  recordSuccess(id: string, eventId: string): ResultAsync<boolean, QueryError> {
    return this.#run(
      sql`
        WITH d AS (
          UPDATE ${this.#t('dead_letters')} SET resolved_at = now()
          WHERE subscription_name = ${subscriptionOf(id)} AND event_id = ${eventId}::uuid
            AND resolved_at IS NULL
        )
        UPDATE ${this.#t('webhooks')}
        SET delivered = delivered + 1, last_delivered_at = now(), last_error = NULL
        WHERE id = ${id}::uuid
        RETURNING id`,
      'recordWebhookSuccess',
    ).map((rows) => rows.length > 0);
  }

  /** False when the webhook is gone (deleted by another process). */
  recordFailure(id: string, error: string): ResultAsync<boolean, QueryError> {
    return this.#run(
      sql`
        UPDATE ${this.#t('webhooks')}
        SET failures = failures + 1, last_failed_at = now(), last_error = ${error}
        WHERE id = ${id}::uuid
        RETURNING id`,
      'recordWebhookFailure',
    ).map((rows) => rows.length > 0);
  }

  deadLetters(id: string): ResultAsync<WebhookDeadLetter[], QueryError> {
    return this.#run(
      sql<{
        event_id: string;
        type: string;
        subject: string | null;
        t: string;
        g: string;
        attempts: number;
        error: string;
        first_failed_at: Date;
        last_failed_at: Date;
      }>`
        SELECT d.event_id::text, e.type, e.subject, d.transaction_id::text AS t,
          d.global_position::text AS g, d.attempts, d.error, d.first_failed_at, d.last_failed_at
        FROM ${this.#t('dead_letters')} d
        LEFT JOIN ${this.#t('events')} e ON e.event_id = d.event_id
        WHERE d.subscription_name = ${subscriptionOf(id)} AND d.resolved_at IS NULL
        ORDER BY d.transaction_id, d.global_position`,
      'webhookDeadLetters',
    ).map((rows) =>
      rows.map((r) => ({
        eventId: r.event_id,
        type: r.type,
        workerId: r.subject,
        cursor: encodeCursor({ transactionId: r.t, globalPosition: r.g }),
        attempts: r.attempts,
        lastError: r.error,
        firstFailedAt: r.first_failed_at.toISOString(),
        deadLetteredAt: r.last_failed_at.toISOString(),
      })),
    );
  }

  /**
   * The position just before the first event, in log order, whose time is at or after `time`;
   * the head when there is none (nothing to send again).
   */
  positionBeforeTime(time: string): ResultAsync<LogPosition | undefined, QueryError> {
    return this.#run(
      sql<{ t: string; g: string }>`
        SELECT e.transaction_id::text AS t, (e.global_position - 1)::text AS g
        FROM ${this.#t('events')} e
        WHERE e.time >= ${time}::timestamptz
        ORDER BY e.transaction_id, e.global_position LIMIT 1`,
      'replayPosition',
    ).map((rows) => {
      const row = rows[0];
      return row === undefined ? undefined : { transactionId: row.t, globalPosition: row.g };
    });
  }
}
