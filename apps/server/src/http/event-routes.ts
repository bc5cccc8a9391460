import { toCloudEvent } from '@hodei/domain';
import type { FastifyInstance } from 'fastify';
import { CatchUpLimiter } from '../events/catch-up-limiter.js';
import { eventFilterOf } from '../events/event-filter.js';
import { DEFAULT_EVENT_STREAM_LIMITS } from '../config/event-stream-limits.js';
import { EventStreamSession } from '../events/event-stream-session.js';
import type { HttpAppDeps } from './http-app-deps.js';
import { errors, json, RETRY_AFTER, text } from './openapi-responses.js';
import { bearerOrTicket, fail, security, type OpenStreams } from './route-helpers.js';
import { eventsQuery, workerIdParams } from './schemas.js';

/** `GET /v1/workers/:id/events`: a worker's history as CloudEvents, from the event store. */
export function registerHistoryRoute(
  app: FastifyInstance,
  deps: Pick<HttpAppDeps, 'service'>,
): void {
  app.get(
    '/v1/workers/:id/events',
    {
      schema: {
        operationId: 'getWorkerHistory',
        summary: "A worker's event history, also after cleanup",
        tags: ['workers'],
        security,
        params: workerIdParams,
        response: {
          200: json('WorkerHistory', 'Its events as CloudEvents, oldest first'),
          ...errors(
            [400, 'The id is not a worker id'],
            401,
            [404, 'No such worker, and no event of one'],
            414,
            [503, 'The event store cannot be reached'],
          ),
        },
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const result = await deps.service.history(id);
      if (result.isErr()) return fail(reply, result.error);
      return reply.send({ workerId: id, events: result.value.map(toCloudEvent) });
    },
  );
}

const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

/** `GET /v1/events`: live events as Server-Sent Events, resumed after `Last-Event-ID`. */
export function registerEventStreamRoute(
  app: FastifyInstance,
  deps: Pick<HttpAppDeps, 'live' | 'resume' | 'heartbeatMs' | 'eventStreamLimits'>,
  streams: OpenStreams,
): void {
  const limits = deps.eventStreamLimits ?? DEFAULT_EVENT_STREAM_LIMITS;
  const catchUps = new CatchUpLimiter(limits.maxConcurrentCatchUps);
  app.get(
    '/v1/events',
    {
      schema: {
        operationId: 'streamEvents',
        summary: 'Live lifecycle events as Server-Sent Events; Last-Event-ID resumes',
        description:
          'Each lifecycle event is a default message (`onmessage`): `id:` is the resume cursor, `data:` the CloudEvent as one line of JSON, whose `type` says which event it is. With `Last-Event-ID` the events missed since come first; when they cannot all come, one named `reset` event (data `{ reason, message }`) says to list the workers again. Comment lines keep the connection alive.',
        tags: ['events'],
        security: bearerOrTicket,
        querystring: eventsQuery,
        response: {
          200: text('text/event-stream', 'The stream, until the client goes away'),
          ...errors([400, 'A filter is invalid'], 401, [
            503,
            'Too many resumes from Last-Event-ID are running (HODEI_SSE_MAX_CATCHUPS)',
            RETRY_AFTER,
          ]),
        },
      },
    },
    async (request, reply) => {
      const parsed = eventFilterOf(request.query);
      if (parsed.isErr()) return reply.code(400).send(parsed.error);
      const filter = parsed.value;
      // A HEAD would hold an endless stream with no body: its headers, and the end.
      if (request.method === 'HEAD') {
        return reply
          .code(200)
          .headers({ 'content-type': SSE_CONTENT_TYPE, 'cache-control': 'no-cache' })
          .send();
      }
      const header = request.headers['last-event-id'];
      const fromQuery = (request.query as { lastEventId?: string }).lastEventId;
      const lastEventId = typeof header === 'string' && header !== '' ? header : fromQuery;
      const release = lastEventId === undefined ? () => undefined : catchUps.tryAcquire();
      if (release === null) {
        return reply
          .code(503)
          .header('retry-after', '2')
          .send({
            error: 'TooManyCatchUps',
            message: `${catchUps.max} resumes from Last-Event-ID are running (HODEI_SSE_MAX_CATCHUPS); retry later`,
          });
      }
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': SSE_CONTENT_TYPE,
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-correlation-id': request.correlationId,
      });
      streams.add(raw);
      raw.on('close', () => streams.delete(raw));
      await EventStreamSession.serve({
        response: raw,
        filter,
        lastEventId,
        live: deps.live,
        source: deps.resume,
        limits,
        heartbeatMs: deps.heartbeatMs ?? 15_000,
        release,
        onDropped: (queued) =>
          request.log.debug({ queued }, 'dropped an SSE client that fell behind'),
      });
      return reply;
    },
  );
}
