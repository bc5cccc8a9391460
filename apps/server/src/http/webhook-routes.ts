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
const NOT_FOUND = [404, 'No such webhook'] as const;
const BAD_ID = [400, 'The id is not a webhook id (a UUID), or the body is not JSON'] as const;
const STORE_DOWN = [503, 'PostgreSQL cannot be reached; retry'] as const;

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
        tags,
        security,
        body: { $ref: 'CreateWebhookRequest#' },
        response: {
          201: json('CreatedWebhook', 'Created; the answer shows its secret, no later one does'),
          ...errors(
            [
              400,
              'A field is invalid (`problems` names it), or the URL starts with none of the prefixes of HODEI_WEBHOOK_ALLOWED_URLS',
            ],
            401,
            NO_DATABASE,
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
              'The id is not a webhook id, or `from` is no event cursor, stored event id or ISO 8601 time',
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
