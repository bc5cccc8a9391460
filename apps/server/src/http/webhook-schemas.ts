/** The webhook components of the OpenAPI document (`schemas.ts` lists them among the shared). */

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
/** Ids are taken in either case (answers show them in lower case). */
const ANY_CASE_UUID =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const webhookIdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: ANY_CASE_UUID, description: 'the webhook id (a UUID)' },
  },
} as const;

export const webhookDeliverySchema = {
  $id: 'WebhookDelivery',
  description: 'Where the delivery stands, whichever server process delivers it',
  type: 'object',
  additionalProperties: false,
  required: [
    'cursor',
    'delivered',
    'failures',
    'deadLettered',
    'lastDeliveredAt',
    'lastError',
    'active',
  ],
  properties: {
    cursor: {
      type: 'string',
      description: 'the event cursor it has delivered up to (events of other types included)',
    },
    delivered: { type: 'integer', minimum: 0, description: 'requests answered with a 2xx' },
    failures: { type: 'integer', minimum: 0, description: 'requests that failed (then retried)' },
    deadLettered: {
      type: 'integer',
      minimum: 0,
      description: 'events given up after the last try, not delivered since',
    },
    lastDeliveredAt: nullableTime,
    lastError: { type: ['string', 'null'], description: 'why the last request failed' },
    active: { type: 'boolean', description: 'a server process is delivering it' },
  },
} as const;

const WEBHOOK_PROPERTIES = {
  id: { type: 'string', pattern: UUID },
  url: { type: 'string', format: 'uri' },
  types: {
    type: ['array', 'null'],
    items: { type: 'string' },
    description:
      'the short event types it is sent; null: every type but `GarbageCollectionCompleted` (the deadline pass reports)',
  },
  createdAt: { type: 'string', format: 'date-time' },
  delivery: { $ref: 'WebhookDelivery#' },
} as const;

export const webhookSchema = {
  $id: 'Webhook',
  description:
    'A webhook: the events POSTed to `url`, signed (Standard Webhooks), at least once and in log order; an event dead-lettered after its last try is skipped and the later ones go on (a replay from its id sends it and them again, in order)',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'types', 'createdAt', 'delivery'],
  properties: WEBHOOK_PROPERTIES,
} as const;

export const createdWebhookSchema = {
  $id: 'CreatedWebhook',
  description: 'The webhook just created, with its signing secret: the only answer that shows it',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'url', 'types', 'createdAt', 'delivery', 'secret'],
  properties: {
    ...WEBHOOK_PROPERTIES,
    secret: { type: 'string', pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$' },
  },
} as const;

export const webhookListSchema = {
  $id: 'WebhookList',
  description: 'Every webhook, oldest first',
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'Webhook#' } } },
} as const;

export const deadLetterSchema = {
  $id: 'DeadLetter',
  description: 'An event a webhook gave up on after its last try',
  type: 'object',
  additionalProperties: false,
  required: [
    'eventId',
    'type',
    'workerId',
    'cursor',
    'attempts',
    'lastError',
    'firstFailedAt',
    'deadLetteredAt',
  ],
  properties: {
    eventId: { type: 'string' },
    type: { type: 'string', description: 'the short event type' },
    workerId: { type: ['string', 'null'] },
    cursor: { type: 'string', description: 'the event’s own cursor' },
    attempts: { type: 'integer', minimum: 1 },
    lastError: { type: 'string' },
    firstFailedAt: { type: 'string', format: 'date-time' },
    deadLetteredAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const deadLetterListSchema = {
  $id: 'DeadLetterList',
  description: 'A webhook’s dead letters, in log order',
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: { items: { type: 'array', items: { $ref: 'DeadLetter#' } } },
} as const;

export const createWebhookRequestSchema = {
  $id: 'CreateWebhookRequest',
  description:
    'A webhook: `url` must start with a prefix of HODEI_WEBHOOK_ALLOWED_URLS; the secret is generated when absent',
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2048 },
    types: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: { type: 'string', minLength: 1, maxLength: 128 },
      description:
        'event types, short (`WorkerEphemeralReady`) or CloudEvents (`io.hodei.lifecycle.WorkerEphemeralReady`); absent: every type but `GarbageCollectionCompleted` (the deadline pass reports, sent only when named)',
    },
    secret: {
      type: 'string',
      pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$',
      maxLength: 128,
      description: '`whsec_` and 24 to 64 random bytes in base64',
    },
  },
} as const;

export const replayWebhookRequestSchema = {
  $id: 'ReplayWebhookRequest',
  description: 'Where to send the events again from',
  type: 'object',
  additionalProperties: false,
  required: ['from'],
  properties: {
    from: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      description:
        'an event cursor (the events after it), an event id (that event on) or an ISO 8601 time (the events from then on, in log order)',
    },
  },
} as const;

export const WEBHOOK_SCHEMAS = [
  webhookDeliverySchema,
  webhookSchema,
  createdWebhookSchema,
  webhookListSchema,
  deadLetterSchema,
  deadLetterListSchema,
  createWebhookRequestSchema,
  replayWebhookRequestSchema,
] as const;
