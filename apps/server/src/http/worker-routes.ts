import type { FastifyInstance } from 'fastify';
import type {
  CreateWorkerRequest,
  PolicyChangeRequest,
  WorkerService,
} from '../workers/worker-service.js';
import { ctxOf, fail, security, type OpenStreams } from './route-helpers.js';
import { writeLogLines } from './write-log-lines.js';
import { errors, json, RETRY_AFTER, text } from './openapi-responses.js';
import { deleteQuery, listWorkersQuery, logsQuery, workerIdParams } from './schemas.js';

const tags = ['workers'];

/**
 * `/v1/workers`: create, list, get, ready and busy, a policy change and a heartbeat, destroy,
 * and the logs.
 */
export function registerWorkerRoutes(
  app: FastifyInstance,
  service: WorkerService,
  streams: OpenStreams,
): void {
  addCreateRoute(app, service);
  addListRoutes(app, service);
  addMarkRoutes(app, service);
  addPolicyRoute(app, service);
  addHeartbeatRoute(app, service);
  addDestroyRoute(app, service);
  addLogsRoute(app, service, streams);
}

function addCreateRoute(app: FastifyInstance, service: WorkerService): void {
  app.post(
    '/v1/workers',
    {
      schema: {
        operationId: 'createWorker',
        summary: 'Create a worker (idempotent by id)',
        tags,
        security,
        body: { $ref: 'CreateWorkerRequest#' },
        response: {
          200: json(
            'Worker',
            'A repeat of an earlier create with the same spec: the worker as it is, or, when it has already ended and been cleaned up (one of the last 10,000 creates of this server run), the worker that create made, as last known (state `terminated` or `failed`); it is not run again. After a DELETE the id is free: a create runs it anew',
          ),
          201: json(
            'Worker',
            'Created; it starts in the background. The body is the worker this create made, also when a job ended and was cleaned up before the answer (then its state is `terminated`)',
          ),
          ...errors(
            400,
            401,
            [409, 'The id belongs to a worker with another spec'],
            413,
            415,
            [429, 'The provider runs HODEI_MAX_WORKERS live workers already; retry later'],
            [
              503,
              'The provider cannot be reached, has not recovered its workers yet, or the event log cannot take more events now (`PublisherBackpressure`, with Retry-After; nothing was created)',
              RETRY_AFTER,
            ],
          ),
        },
      },
    },
    async (request, reply) => {
      const result = await service.create(
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- the schema shaped it
        (request.body ?? {}) as CreateWorkerRequest,
        ctxOf(request),
      );
      if (result.isErr()) return fail(reply, result.error);
      return reply.code(result.value.created ? 201 : 200).send(result.value.worker);
    },
  );
}

/** The listing and one worker. */
function addListRoutes(app: FastifyInstance, service: WorkerService): void {
  app.get(
    '/v1/workers',
    {
      schema: {
        operationId: 'listWorkers',
        summary: 'List workers, oldest first, a page at a time',
        tags,
        security,
        querystring: listWorkersQuery,
        response: {
          200: json('WorkerPage', 'One page'),
          ...errors([400, 'A filter, `limit` or `cursor` is invalid'], 401, [
            503,
            'A provider used without lifecycle management cannot be reached',
          ]),
        },
      },
    },
    async (request, reply) => {
      const q = request.query as Record<string, string | undefined>;
      const result = await service.list({
        ...(q['state'] === undefined ? {} : { state: q['state'] as never }),
        ...(q['providerId'] === undefined ? {} : { providerId: q['providerId'] }),
        ...(q['mode'] === undefined ? {} : { mode: q['mode'] as never }),
        ...(q['cursor'] === undefined ? {} : { cursor: q['cursor'] }),
        limit: q['limit'] === undefined ? 100 : Number(q['limit']),
      });
      return result.isErr() ? fail(reply, result.error) : reply.send(result.value);
    },
  );

  app.get(
    '/v1/workers/:id',
    {
      schema: {
        operationId: 'getWorker',
        summary: 'One worker',
        tags,
        security,
        params: workerIdParams,
        response: {
          200: json('Worker', 'The worker'),
          ...errors([400, 'The id is not a worker id'], 401, 404, 414),
        },
      },
    },
    async (request, reply) => {
      const result = await service.get((request.params as { id: string }).id);
      return result.isErr() ? fail(reply, result.error) : reply.send(result.value);
    },
  );
}

function addMarkRoutes(app: FastifyInstance, service: WorkerService): void {
  for (const to of ['ready', 'busy'] as const) {
    app.post(
      `/v1/workers/:id/${to}`,
      {
        schema: {
          operationId: to === 'ready' ? 'markWorkerReady' : 'markWorkerBusy',
          summary: `Mark an agent ${to}`,
          tags,
          security,
          params: workerIdParams,
          response: {
            200: json('Worker', `The agent, now ${to}`),
            ...errors(
              [400, 'The id is not a worker id, or the body is not JSON'],
              401,
              404,
              [
                409,
                `The worker runs a job, its state cannot become ${to}, or lifecycle management is off`,
              ],
              413,
              415,
              414,
              BACKPRESSURE,
            ),
          },
        },
      },
      async (request, reply) => {
        const result = await service.mark(
          (request.params as { id: string }).id,
          to,
          ctxOf(request),
        );
        return result.isErr() ? fail(reply, result.error) : reply.send(result.value);
      },
    );
  }
}

const POLICY_ROUTE = '/v1/workers/:id/policy';

/** The fields a change changed, `…Seconds`, comma-separated; empty when it changed nothing. */
export const POLICY_CHANGED_HEADER = 'Hodei-Policy-Changed';

/** A provider that has not recovered its workers yet may be about to adopt this one. */
const NOT_RECOVERED = [
  503,
  'The provider has not recovered its workers yet (after a restart; Retry-After says when to retry), or, with lifecycle management off, it cannot be reached',
  RETRY_AFTER,
] as const;

/** The event log cannot take the change's event: refused before anything changed. */
const BACKPRESSURE = [
  503,
  'The event log cannot take more events now (`PublisherBackpressure`; Retry-After says when to retry); nothing was changed',
  RETRY_AFTER,
] as const;

const NOT_RECOVERED_OR_BACKPRESSURE = [
  503,
  `${NOT_RECOVERED[1]}; or the event log cannot take more events now (\`PublisherBackpressure\`; nothing was changed)`,
  RETRY_AFTER,
] as const;

/** The media type of a Content-Type header, without its parameters, lower case. */
const mediaTypeOf = (header: string | undefined): string =>
  (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/** `PATCH /v1/workers/{id}/policy`: extend (or shorten) a worker at run time. */
function addPolicyRoute(app: FastifyInstance, service: WorkerService): void {
  app.patch(
    POLICY_ROUTE,
    {
      schema: {
        operationId: 'changeWorkerPolicy',
        summary: "Change a worker's policy at run time (extend it)",
        description:
          'A partial update (`application/json`): the fields given replace those of its policy, the others stay, and the result is validated as at create; `extendLifetimeBySeconds` adds to the lifetime it has when the change applies, so concurrent extensions all count. Its deadlines move at once and one WorkerEphemeralPolicyChanged records the old and new values (none when nothing changed; the `Hodei-Policy-Changed` header says which fields did). The change lives in the server: it survives a restart only with DATABASE_URL, where recovery replays it from the event store.',
        tags,
        security,
        params: workerIdParams,
        body: { $ref: 'PolicyChange#' },
        response: {
          200: json('Worker', 'The worker with its new policy and deadlines', {
            headers: {
              [POLICY_CHANGED_HEADER]: {
                type: 'string',
                description:
                  'the fields that changed, comma-separated (`maxLifetimeSeconds,idleTimeoutSeconds`); empty when the values were already its own',
              },
            },
          }),
          ...errors(
            [
              400,
              'A field is unknown or invalid (`problems` names it, `body.<field>`), none is given, extendLifetimeBySeconds comes with maxLifetimeSeconds, or the lifetime would pass HODEI_MAX_LIFETIME_SECONDS',
            ],
            401,
            404,
            [
              409,
              'The worker is terminating, or finished (then only ttlAfterCompletionSeconds may change), or lifecycle management is off',
            ],
            413,
            414,
            [415, 'The body is not `application/json`, or it is compressed (Content-Encoding)'],
            NOT_RECOVERED_OR_BACKPRESSURE,
          ),
        },
      },
      // JSON only (Fastify would read text/plain as a string): refused before validation.
      // No body is an empty change: refused as one, naming the fields.
      preValidation: async (request, reply) => {
        const type = mediaTypeOf(request.headers['content-type']);
        if (request.body !== undefined && type !== 'application/json') {
          return reply
            .code(415)
            .send({ error: 'UnsupportedMediaType', message: 'send application/json' });
        }
        request.body ??= {};
        return undefined;
      },
    },
    async (request, reply) => {
      const result = await service.changePolicy(
        (request.params as { id: string }).id,
        request.body as PolicyChangeRequest,
        ctxOf(request),
      );
      if (result.isErr()) return fail(reply, result.error);
      return reply
        .header(POLICY_CHANGED_HEADER, result.value.changed.join(','))
        .send(result.value.worker);
    },
  );
}

/** `POST /v1/workers/{id}/heartbeat`: the agent, or its dispatcher, says it is still at work. */
function addHeartbeatRoute(app: FastifyInstance, service: WorkerService): void {
  app.post(
    '/v1/workers/:id/heartbeat',
    {
      schema: {
        operationId: 'heartbeatWorker',
        summary: "Restart a live agent's idle clock (no event)",
        description:
          'For agents (a job has no idle clock): its `lastActivity` becomes now and `by` (default `api`), so `deadlines.idleAt` moves; no event is recorded, the next state event carries the last activity. The body may be absent. Having no event, it is accepted while the event log is in backpressure (refusing it would let the idle rule stop a working agent).',
        tags,
        security,
        params: workerIdParams,
        body: { $ref: 'HeartbeatRequest#' },
        response: {
          200: json('Worker', 'The worker, its idle clock restarted'),
          ...errors(
            [400, 'The id is not a worker id, or `by` is invalid'],
            401,
            404,
            [
              409,
              'The worker runs a job (heartbeats are for agents), is not creating, ready or busy, or lifecycle management is off',
            ],
            413,
            414,
            415,
            NOT_RECOVERED,
          ),
        },
      },
      preValidation: (request, _reply, next) => {
        request.body ??= {};
        next();
      },
    },
    async (request, reply) => {
      const result = await service.heartbeat(
        (request.params as { id: string }).id,
        (request.body as { by?: string }).by,
        ctxOf(request),
      );
      return result.isErr() ? fail(reply, result.error) : reply.send(result.value);
    },
  );
}

function addDestroyRoute(app: FastifyInstance, service: WorkerService): void {
  app.delete(
    '/v1/workers/:id',
    {
      schema: {
        operationId: 'destroyWorker',
        summary: 'Destroy a worker gracefully',
        description:
          'Answers 202 with the worker `terminating` while it stops in the background, or with `?wait=true` 200 once it is gone. A finished worker is removed at once (200). The id is then free: a create with it runs anew.',
        tags,
        security,
        params: workerIdParams,
        querystring: deleteQuery,
        response: {
          200: json('Worker', 'Gone: it had finished, or `?wait=true` waited'),
          202: json('Worker', 'Terminating in the background'),
          ...errors(
            [400, 'The id or the query is invalid, or the body is not JSON'],
            401,
            404,
            [409, 'The worker cannot be terminated in its state'],
            413,
            414,
            415,
            [
              503,
              'The provider cannot be reached, or the event log cannot take more events now (`PublisherBackpressure`, with Retry-After; nothing was changed)',
              RETRY_AFTER,
            ],
          ),
        },
      },
    },
    async (request, reply) => {
      const wait = (request.query as { wait?: string }).wait === 'true';
      const result = await service.destroy(
        (request.params as { id: string }).id,
        wait,
        ctxOf(request),
      );
      if (result.isErr()) return fail(reply, result.error);
      return reply.code(result.value.finished ? 200 : 202).send(result.value.worker);
    },
  );
}

const LOG_CONTENT_TYPE = 'text/plain; charset=utf-8';

function addLogsRoute(app: FastifyInstance, service: WorkerService, streams: OpenStreams): void {
  app.get(
    '/v1/workers/:id/logs',
    {
      schema: {
        operationId: 'getWorkerLogs',
        summary: "The worker's output as text; ?follow=true streams",
        description:
          "The last HODEI_LOG_DEFAULT_TAIL lines (1000) unless ?tail=N or ?tail=all. One response stops at HODEI_LOG_RESPONSE_MAX_BYTES (10 MiB) with a last line starting '[hodei] log truncated:'.",
        tags,
        security,
        params: workerIdParams,
        querystring: logsQuery,
        response: {
          200: text('text/plain', 'Its stdout and stderr, one line each'),
          ...errors([400, 'The id or the query is invalid'], 401, 404, 414, [
            503,
            'The provider cannot be reached',
          ]),
        },
      },
    },
    async (request, reply) => {
      const q = request.query as { follow?: string; tail?: string };
      // A HEAD says whether there is a log, and ends: a followed one would never end.
      const head = request.method === 'HEAD';
      // The client going away ends a followed stream at once.
      const gone = new AbortController();
      reply.raw.on('close', () => gone.abort());
      const result = await service.logs((request.params as { id: string }).id, {
        follow: q.follow === 'true' && !head,
        ...(q.tail === undefined ? {} : { tail: q.tail === 'all' ? 'all' : Number(q.tail) }),
        signal: gone.signal,
      });
      if (result.isErr()) return fail(reply, result.error);
      if (head) {
        gone.abort();
        return reply.code(200).type(LOG_CONTENT_TYPE).send();
      }
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': LOG_CONTENT_TYPE,
        'x-correlation-id': String(reply.getHeader('x-correlation-id')),
      });
      // A follower of a quiet log learns at once that the stream is open.
      raw.flushHeaders();
      streams.add(raw);
      try {
        await writeLogLines(raw, result.value, gone.signal);
      } catch (cause) {
        // A follower going away is routine (its abort surfaces here): no warning, no stack.
        if (gone.signal.aborted)
          request.log.debug({ reason: (cause as Error).message }, 'log follower went away');
        else request.log.warn({ err: cause }, 'log stream ended with an error');
      } finally {
        streams.delete(raw);
        if (!raw.writableEnded) raw.end();
      }
      return reply;
    },
  );
}
