export {
  databaseUnavailable,
  postgresServerVersion,
  redactDatabaseUrl,
} from './postgres-server.js';
export type { DatabaseUnavailable } from './postgres-server.js';

export { PostgresEventBus } from './event-bus.js';
export type { EventBusOptions, InvalidEventBusConfig, MigrationError } from './event-bus.js';
export type { EventBusDatabase } from './schema/database.js';
export { migrateSchema, notifyChannel } from './schema/migrations.js';

export { PostgresEventStore } from './store/postgres-event-store.js';
export type {
  AppendedEvent,
  AppendOptions,
  AppendPool,
  PostgresEventStoreOptions,
  ReadOptions,
} from './store/postgres-event-store.js';
export type { CloudEventJson, EventFilter } from './store/filtered-reads.js';
export { DEFAULT_MAX_EVENT_BYTES, streamIdOf } from './store/event-row.js';
export type { StoredEvent } from './store/event-row.js';
export { decodeCursor, encodeCursor } from './store/cursor.js';
export type { LogPosition } from './store/cursor.js';
export { runInTransaction } from './store/run-in-transaction.js';
export { pruneEventsBefore } from './prune-events-before.js';
export type { PruneEventsBeforeOptions } from './prune-events-before.js';
export type {
  InvalidPruneDate,
  PruneError,
  PruneOptions,
  PruneReport,
} from './store/prune-events.js';
export type { TransactionError } from './store/run-in-transaction.js';
export { classifyDatabaseError } from './store/event-store.errors.js';
export type {
  AppendError,
  EventNotSerializable,
  EventRejected,
  EventStoreFailure,
  EventStoreUnavailable,
  EventTooLarge,
  InvalidAppend,
  InvalidCursor,
  InvalidEvent,
  QueryError,
  WrongExpectedVersion,
} from './store/event-store.errors.js';

export { PostgresSubscriptions } from './subscription/postgres-subscriptions.js';
export type {
  PostgresSubscriptionsOptions,
  SubscriptionAlreadyRunning,
} from './subscription/postgres-subscriptions.js';
export type {
  DeadLetter,
  EventHandler,
  HandlerContext,
  RetryPolicy,
  SubscribeOptions,
  SubscriptionHandle,
  SubscriptionState,
} from './subscription/subscription.types.js';
export type { ListenerState } from './subscription/wake-up-listener.js';

export { EventBusPublisher } from './publisher/event-bus-publisher.js';
export type {
  EventBusPublisherOptions,
  EventBusPublisherState,
  PublisherBus,
} from './publisher/event-bus-publisher.js';
export { DEFAULT_SPOOL_FILE, FileSpool } from './publisher/file-spool.js';
export type { FileSpoolOptions, SpoolError, SpoolRecord } from './publisher/file-spool.js';
export type { SpoolLocked, SpoolLockHolder } from './publisher/spool-lock.js';
export type { WriteFn } from './publisher/write-all.js';

export { PostgresWebhooks } from './webhooks/postgres-webhooks.js';
export { UrlAllowlist } from './webhooks/url-allowlist.js';
export { generateSecret, parseSecret, signature } from './webhooks/webhook-signature.js';
export { CLOUD_EVENTS_JSON, webhookRequest } from './webhooks/webhook-delivery.js';
export { moveCheckpoint } from './subscription/move-checkpoint.js';
export type {
  CreatedWebhook,
  NewWebhook,
  PostgresWebhooksOptions,
  Webhook,
  WebhookDeadLetter,
  WebhookDelivery,
  WebhookRetryOptions,
} from './webhooks/webhook.types.js';
export type {
  CreateWebhookError,
  InvalidReplayFrom,
  InvalidWebhook,
  ReplayWebhookError,
  WebhookLimitReached,
  WebhookLookupError,
  WebhookNotFound,
  WebhookUrlNotAllowed,
} from './webhooks/webhook.errors.js';
