import type { FastifyInstance } from 'fastify';
import type { CreateWorkerRequest, WorkerService } from '../workers/worker-service.js';
import { ctxOf, fail, security, type OpenStreams } from './route-helpers.js';
import { writeLogLines } from './write-log-lines.js';
import {
  createWorkerBody,
  deleteQuery,
  errorResponses,
  listWorkersQuery,
  logsQuery,
  workerIdParams,
  workerPage,
} from './schemas.js';

/** `/v1/workers`: create, list, get, ready and busy, destroy, and the logs. */
export function registerWorkerRoutes(
  app: FastifyInstance,
  service: WorkerService,
  streams: OpenStreams,
): void {
  addCreateRoute(app, service);
  addListRoutes(app, service);
  addMarkRoutes(app, service);
  addDestroyRoute(app, service);
  addLogsRoute(app, service, streams);
}

function addCreateRoute(app: FastifyInstance, service: WorkerService): void {
  app.post(
    '/v1/workers',
    {
      schema: {
        summary: 'Create a worker (idempotent by id)',
        security,
        body: createWorkerBody,
        response: { 200: { $ref: 'Worker#' }, 201: { $ref: 'Worker#' }, ...errorResponses },
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
        summary: 'List workers',
        security,
        querystring: listWorkersQuery,
        response: { 200: workerPage, ...errorResponses },
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
        summary: 'One worker',
        security,
        params: workerIdParams,
        response: { 200: { $ref: 'Worker#' }, ...errorResponses },
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
          summary: `Mark a worker ${to}`,
          security,
          params: workerIdParams,
          response: { 200: { $ref: 'Worker#' }, ...errorResponses },
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

function addDestroyRoute(app: FastifyInstance, service: WorkerService): void {
  app.delete(
    '/v1/workers/:id',
    {
      schema: {
        summary: 'Destroy a worker gracefully: 202 in the background, or 200 with ?wait=true',
        security,
        params: workerIdParams,
        querystring: deleteQuery,
        response: { 200: { $ref: 'Worker#' }, 202: { $ref: 'Worker#' }, ...errorResponses },
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

function addLogsRoute(app: FastifyInstance, service: WorkerService, streams: OpenStreams): void {
  app.get(
    '/v1/workers/:id/logs',
    {
      schema: {
        summary: "The worker's output as text; ?follow=true streams",
        description:
          "The last HODEI_LOG_DEFAULT_TAIL lines (1000) unless ?tail=N or ?tail=all. One response stops at HODEI_LOG_RESPONSE_MAX_BYTES (10 MiB) with a last line starting '[hodei] log truncated:'.",
        security,
        params: workerIdParams,
        querystring: logsQuery,
        response: { 200: { type: 'string' }, ...errorResponses },
      },
    },
    async (request, reply) => {
      const q = request.query as { follow?: string; tail?: string };
      // The client going away ends a followed stream at once.
      const gone = new AbortController();
      reply.raw.on('close', () => gone.abort());
      const result = await service.logs((request.params as { id: string }).id, {
        follow: q.follow === 'true',
        ...(q.tail === undefined ? {} : { tail: q.tail === 'all' ? 'all' : Number(q.tail) }),
        signal: gone.signal,
      });
      if (result.isErr()) return fail(reply, result.error);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'x-correlation-id': String(reply.getHeader('x-correlation-id')),
      });
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
