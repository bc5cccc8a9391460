import type { Logger } from '@hodei/domain';
import type { PostgresEventBus } from '../event-bus.js';
import type { UrlAllowlist } from './url-allowlist.js';

/** Where a webhook's delivery stands, read from the database (any process may deliver it). */
export interface WebhookDelivery {
  /** The checkpoint of its subscription: the events after it are still to be sent. */
  readonly cursor: string;
  readonly delivered: number;
  readonly failures: number;
  /** Dead letters not yet delivered by a later replay. */
  readonly deadLettered: number;
  readonly lastDeliveredAt: string | null;
  /** Why the last request failed; null once one succeeds. */
  readonly lastError: string | null;
  /** True while some process holds the subscription's lease. */
  readonly active: boolean;
}

export interface Webhook {
  readonly id: string;
  readonly url: string;
  /** Short event type names; null: every type but GarbageCollectionCompleted (the pass reports). */
  readonly types: readonly string[] | null;
  readonly createdAt: string;
  readonly delivery: WebhookDelivery;
}

/** The create answer: the only one that shows the secret. */
export interface CreatedWebhook extends Webhook {
  readonly secret: string;
}

export interface NewWebhook {
  readonly url: string;
  /** Short or CloudEvents type names; absent or null: every type but GarbageCollectionCompleted. */
  readonly types?: readonly string[] | null;
  /** `whsec_<base64>`; generated when absent. */
  readonly secret?: string;
}

/** An event the webhook gave up on after its last try. */
export interface WebhookDeadLetter {
  readonly eventId: string;
  readonly type: string;
  readonly workerId: string | null;
  /** The cursor of the event itself: a replay from the event id sends it again. */
  readonly cursor: string;
  readonly attempts: number;
  readonly lastError: string;
  readonly firstFailedAt: string;
  readonly deadLetteredAt: string;
}

export interface WebhookRetryOptions {
  /** Requests before an event goes to the dead letters (default 8). */
  readonly maxAttempts?: number;
  /** Delay before the first retry (default 1 s); doubles, with jitter, up to `maxDelayMs`. */
  readonly initialDelayMs?: number;
  /** Default 5 minutes. */
  readonly maxDelayMs?: number;
}

export interface PostgresWebhooksOptions {
  readonly bus: Pick<PostgresEventBus, 'db' | 'schema' | 'store' | 'subscriptions'>;
  /** The URL prefixes webhooks may target (checked at create and before every request). */
  readonly allowlist: UrlAllowlist;
  readonly retry?: WebhookRetryOptions;
  /** Per request (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** How often the table is read for webhooks created or deleted elsewhere (default 5 s). */
  readonly pollMs?: number;
  /** The subscriptions' lease (default 30 s): how soon another process takes over a dead one's. */
  readonly leaseMs?: number;
  /**
   * The subscriptions' polling cap while idle (default 10 s): appends wake them at once through
   * the bus's LISTEN connection, so the poll is only the fallback (with `listen: false` on the
   * bus, it is the delivery latency).
   */
  readonly idlePollMs?: number;
  /** The most webhooks that may exist (default 100); a create past it is refused. */
  readonly maxWebhooks?: number;
  /** The `User-Agent` of the requests (default `hodei`), e.g. `hodei/1.4.0`. */
  readonly userAgent?: string;
  readonly logger?: Logger;
}
