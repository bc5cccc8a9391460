import { toCloudEvent } from '@hodei/domain';
import type { FastifyInstance } from 'fastify';
import { CatchUpLimiter } from '../events/catch-up-limiter.js';
import type { EventFilter } from '../events/event-filter.js';
import { DEFAULT_EVENT_STREAM_LIMITS } from '../config/event-stream-limits.js';
import { EventStreamSession } from '../events/event-stream-session.js';
import type { HttpAppDeps } from './http-app-deps.js';
import { fail, security, type OpenStreams } from './route-helpers.js';
import { errorResponses, eventsQuery, historyResponse, workerIdParams } from './schemas.js';

/** `GET /v1/workers/:id/events`: a worker's history as CloudEvents, from the event store. */
export function registerHistoryRoute(
  app: FastifyInstance,
  deps: Pick<HttpAppDeps, 'service'>,
): void {
  app.get(
    '/v1/workers/:id/events',
    {
      schema: {
        summary: "A worker's event history, also after cleanup",
        security,
        params: workerIdParams,
        response: { 200: historyResponse, ...errorResponses },
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
        summary: 'Live lifecycle events as Server-Sent Events; Last-Event-ID resumes',
        security,
        querystring: eventsQuery,
      },
    },
    async (request, reply) => {
      const filter = request.query as EventFilter;
      const header = request.headers['last-event-id'];
      const lastEventId = typeof header === 'string' && header !== '' ? header : undefined;
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
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
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
