import { toCloudEvent, type LifecycleEvent } from '@hodei/domain';
import type { FastifyInstance } from 'fastify';
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
  deps: Pick<HttpAppDeps, 'live' | 'resume' | 'heartbeatMs'>,
  streams: OpenStreams,
): void {
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
      const q = request.query as { workerId?: string; type?: string };
      const matches = (e: LifecycleEvent): boolean =>
        (q.workerId === undefined || ('workerId' in e && e.workerId === q.workerId)) &&
        (q.type === undefined || e.type === q.type);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      streams.add(raw);
      const send = (e: LifecycleEvent) => {
        if (!raw.writableEnded)
          raw.write(
            `id: ${e.eventId}\nevent: ${e.type}\ndata: ${JSON.stringify(toCloudEvent(e))}\n\n`,
          );
      };
      // Listen first and hold live events while the missed ones are read, then drop repeats.
      const held: LifecycleEvent[] = [];
      let catchingUp = true;
      const unsubscribe = deps.live.subscribe((e) => {
        if (!matches(e)) return;
        if (catchingUp) held.push(e);
        else send(e);
      });
      const heartbeat = setInterval(() => {
        if (!raw.writableEnded) raw.write(': heartbeat\n\n');
      }, deps.heartbeatMs ?? 15_000);
      const close = () => {
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(raw);
      };
      raw.on('close', close);
      raw.write('retry: 2000\n\n');
      const sent = new Set<string>();
      const lastEventId = request.headers['last-event-id'];
      if (typeof lastEventId === 'string' && lastEventId !== '') {
        const missed = await deps.resume(lastEventId);
        if (missed === undefined) {
          raw.write(
            `event: reset\ndata: ${JSON.stringify({ message: `event ${lastEventId} is unknown; live events follow` })}\n\n`,
          );
        } else {
          for (const e of missed) {
            if (!matches(e)) continue;
            send(e);
            sent.add(e.eventId);
          }
        }
      }
      catchingUp = false;
      for (const e of held) if (!sent.has(e.eventId)) send(e);
      return reply;
    },
  );
}
