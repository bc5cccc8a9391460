import type {
  CreatedWebhook,
  CreateWebhookError,
  PostgresWebhooks,
  ReplayWebhookError,
  Webhook,
  WebhookDeadLetter,
  WebhookLookupError,
} from '@hodei/postgres-event-bus';
import { errAsync, type ResultAsync } from 'neverthrow';

/** Webhooks are rows of PostgreSQL and deliveries of its event log: nothing without it. */
export interface WebhooksNeedDatabase {
  readonly type: 'WebhooksNeedDatabase';
  readonly message: string;
}

export type WebhookServiceError =
  CreateWebhookError | ReplayWebhookError | WebhookLookupError | WebhooksNeedDatabase;

/** `POST /v1/webhooks`, as the body schema shaped it. */
export interface CreateWebhookRequest {
  readonly url: string;
  readonly types?: readonly string[];
  readonly secret?: string;
}

/** What the webhook routes call; every method answers WebhooksNeedDatabase without a database. */
export interface WebhookService {
  create(request: CreateWebhookRequest): ResultAsync<CreatedWebhook, WebhookServiceError>;
  list(): ResultAsync<{ readonly items: Webhook[] }, WebhookServiceError>;
  get(id: string): ResultAsync<Webhook, WebhookServiceError>;
  delete(id: string): ResultAsync<void, WebhookServiceError>;
  replay(id: string, from: string): ResultAsync<Webhook, WebhookServiceError>;
  deadLetters(
    id: string,
  ): ResultAsync<{ readonly items: WebhookDeadLetter[] }, WebhookServiceError>;
}

const needDatabase = (): ResultAsync<never, WebhooksNeedDatabase> =>
  errAsync({
    type: 'WebhooksNeedDatabase',
    message: 'webhooks are stored in PostgreSQL: set DATABASE_URL',
  });

/** The routes' view of the engine, or of its absence. */
export function webhookService(engine: PostgresWebhooks | undefined): WebhookService {
  if (engine === undefined) {
    return {
      create: needDatabase,
      list: needDatabase,
      get: needDatabase,
      delete: needDatabase,
      replay: needDatabase,
      deadLetters: needDatabase,
    };
  }
  return {
    create: (r) =>
      engine.create({
        url: r.url,
        ...(r.types === undefined ? {} : { types: r.types }),
        ...(r.secret === undefined ? {} : { secret: r.secret }),
      }),
    list: () => engine.list().map((items) => ({ items })),
    get: (id) => engine.get(id),
    delete: (id) => engine.delete(id),
    replay: (id, from) => engine.replay(id, from),
    deadLetters: (id) => engine.deadLetters(id).map((items) => ({ items })),
  };
}
