import type { FastifyInstance, FastifyReply } from 'fastify';
import type {
  CreateWebhookRequest,
  WebhookService,
  WebhookServiceError,
} from '../webhooks/webhook-service.js';
import { bodyOf, statusOf } from './error-mapping.js';
import { errors, json } from './openapi-responses.js';
import { security } from './route-helpers.js';
import { webhookIdParams } from './webhook-schemas.js';

const tags = ['webhooks'];

const NO_DATABASE = [
  409,
  'The server runs without DATABASE_URL: webhooks need PostgreSQL',
] as const;
const CREATE_CONFLICT = [
  409,
  'The server runs without DATABASE_URL (`WebhooksNeedDatabase`), or there are already HODEI_WEBHOOK_MAX webhooks (`WebhookLimitReached`)',
] as const;
const NOT_FOUND = [404, 'No such webhook'] as const;
const BAD_ID = [400, 'The id is not a webhook id (a UUID), or the body is not JSON'] as const;
const STORE_DOWN = [503, 'PostgreSQL cannot be reached; retry'] as const;

/** How events reach a webhook, dead letters and a narrowed allowlist included. */
const DELIVERY = [
  'Each event is POSTed as a CloudEvent (`application/cloudevents+json`) with the Standard Webhooks headers `webhook-id` (the event id, the same on every retry), `webhook-timestamp` and `webhook-signature`, and `User-Agent: hodei/<version>`; a 2xx delivers it. Delivery is at least once and in log order: one request at a time, an event retried with backoff until it succeeds or HODEI_WEBHOOK_MAX_ATTEMPTS requests have failed.',
  "Order after a dead letter: an event given up on is skipped, not waited for. It goes to `GET /v1/webhooks/{id}/dead-letters` and the later events (of the same worker too) are sent on, so a receiver may see a worker's later events without the one dead-lettered. A replay from its event id (`POST /v1/webhooks/{id}/replay` with `from` = the event id) sends it and every event after it again, in log order.",
  'A webhook whose URL the allowlist no longer allows (HODEI_WEBHOOK_ALLOWED_URLS narrowed) is sent nothing: each event is dead-lettered at once, without retries, with `lastError` `url refused: …`.',
].join('\n\n');

const failWith = (reply: FastifyReply, error: WebhookServiceError): FastifyReply =>
  reply.code(statusOf(error)).send(bodyOf(error));

const idOf = (params: unknown): string => (params as { id: string }).id;

/**
 * `/v1/webhooks`: create, list, get, delete, replay from a position of the log, and the dead
 * letters. The secret is in the create's answer only.
 */
export function registerWebhookRoutes(app: FastifyInstance, service: WebhookService): void {
  addCreateAndListRoutes(app, service);
  addWebhookRoutes(app, service);
}

function addCreateAndListRoutes(app: FastifyInstance, service: WebhookService): void {
  app.post(
    '/v1/webhooks',
    {
      schema: {
        operationId: 'createWebhook',
        summary: 'Create a webhook: the events from now on are POSTed to its URL, signed',
        description: DELIVERY,
        tags,
        security,
        body: { $ref: 'CreateWebhookRequest#' },
        response: {
          201: json('CreatedWebhook', 'Created; the answer shows its secret, no later one does'),
          ...errors(
            [
              400,
              'A field is invalid (`problems` names it: `body.url`, `body.types`, `body.secret`), the URL carries an encoded `/`, `\\` or `.` (`%2f`, `%5c`, `%2e`), or it is under none of the prefixes of HODEI_WEBHOOK_ALLOWED_URLS',
            ],
            401,
            CREATE_CONFLICT,
            413,
            415,
            STORE_DOWN,
          ),
        },
      },
    },
    async (request, reply) => {
      const result = await service.create(request.body as CreateWebhookRequest);
      return result.isErr() ? failWith(reply, result.error) : reply.code(201).send(result.value);
    },
  );

  app.get(
    '/v1/webhooks',
    {
      schema: {
        operationId: 'listWebhooks',
        summary: 'Every webhook with its delivery state, oldest first',
        tags,
        security,
        response: {
          200: json('WebhookList', 'The webhooks'),
          ...errors([400, 'Malformed HTTP'], 401, NO_DATABASE, STORE_DOWN),
        },
      },
    },
    async (_request, reply) => {
      const result = await service.list();
      return result.isErr() ? failWith(reply, result.error) : reply.send(result.value);
    },
  );
}

/** The routes of one webhook. */
function addWebhookRoutes(app: FastifyInstance, service: WebhookService): void {
  addGetAndDeleteRoutes(app, service);
  addReplayRoute(app, service);
  addDeadLettersRoute(app, service);
}

function addGetAndDeleteRoutes(app: FastifyInstance, service: WebhookService): void {
  app.get(
    '/v1/webhooks/:id',
    {
      schema: {
        operationId: 'getWebhook',
        summary: 'One webhook and where its delivery stands',
        tags,
        security,
        params: webhookIdParams,
        response: {
          200: json('Webhook', 'The webhook (without its secret)'),
          ...errors(BAD_ID, 401, NOT_FOUND, NO_DATABASE, 414, STORE_DOWN),
        },
      },
    },
    async (request, reply) => {
      const result = await service.get(idOf(request.params));
      return result.isErr() ? failWith(reply, result.error) : reply.send(result.value);
    },
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      schema: {
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook: nothing more is sent to it, its dead letters go with it',
        tags,
        security,
        params: webhookIdParams,
        response: {
          204: { description: 'Deleted', type: 'null' },
          ...errors(BAD_ID, 401, NOT_FOUND, NO_DATABASE, 413, 414, 415, STORE_DOWN),
        },
      },
    },
    async (request, reply) => {
      const result = await service.delete(idOf(request.params));
      return result.isErr() ? failWith(reply, result.error) : reply.code(204).send();
    },
  );
}

function addReplayRoute(app: FastifyInstance, service: WebhookService): void {
  app.post(
    '/v1/webhooks/:id/replay',
    {
      schema: {
        operationId: 'replayWebhook',
        summary: 'Send the events again from a cursor, an event id or a time',
        tags,
        security,
        params: webhookIdParams,
        body: { $ref: 'ReplayWebhookRequest#' },
        response: {
          202: json('Webhook', 'Its checkpoint moved; the events are being sent again'),
          ...errors(
            [
              400,
              'The id is not a webhook id, or `from` is no event cursor, stored event id or ISO 8601 time, or a cursor after the log head (`InvalidReplayFrom`, `problems` names `body.from`)',
            ],
            401,
            NOT_FOUND,
            NO_DATABASE,
            413,
            414,
            415,
            STORE_DOWN,
          ),
        },
      },
    },
    async (request, reply) => {
      const { from } = request.body as { from: string };
      const result = await service.replay(idOf(request.params), from);
      return result.isErr() ? failWith(reply, result.error) : reply.code(202).send(result.value);
    },
  );
}

function addDeadLettersRoute(app: FastifyInstance, service: WebhookService): void {
  app.get(
    '/v1/webhooks/:id/dead-letters',
    {
      schema: {
        operationId: 'listWebhookDeadLetters',
        summary: 'The events a webhook gave up on after its last try, in log order',
        tags,
        security,
        params: webhookIdParams,
        response: {
          200: json(
            'DeadLetterList',
            'Its dead letters (a replay from an event id sends one again)',
          ),
          ...errors(BAD_ID, 401, NOT_FOUND, NO_DATABASE, 414, STORE_DOWN),
        },
      },
    },
    async (request, reply) => {
      const result = await service.deadLetters(idOf(request.params));
      return result.isErr() ? failWith(reply, result.error) : reply.send(result.value);
    },
  );
}
