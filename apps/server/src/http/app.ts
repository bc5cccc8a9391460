import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import swagger from '@fastify/swagger';
import { toCloudEvent, type LifecycleEvent, type OperationContext } from '@hodei/domain';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { LiveEventStream } from '../events/live-event-stream.js';
import type { CreateWorkerRequest, WorkerService } from '../workers/worker-service.js';
import type { WorkerServiceError } from '../workers/service.errors.js';
import { bodyOf, statusOf } from './error-mapping.js';
import {
  cloudEventSchema,
  createWorkerBody,
  deleteQuery,
  errorResponses,
  errorSchema,
  eventsQuery,
  gcResponse,
  healthResponse,
  historyResponse,
  listWorkersQuery,
  logsQuery,
  policySchema,
  workerIdParams,
  workerPage,
  workerSchema,
} from './schemas.js';

export interface ReadinessCheck {
  readonly ok: boolean;
  readonly detail: string;
}

export interface HttpAppDeps {
  readonly service: WorkerService;
  readonly live: LiveEventStream;
  /** Events after `eventId`, from the event store or the live buffer; `undefined` if unknown. */
  readonly resume: (eventId: string) => Promise<readonly LifecycleEvent[] | undefined>;
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  readonly readiness: () => Promise<Record<string, ReadinessCheck>>;
  readonly token: string;
  readonly logger?: PinoLogger;
  readonly heartbeatMs?: number;
  readonly bodyLimit?: number;
  readonly version?: string;
  /** Called once per answered request, for `hodei_http_requests_total`. */
  readonly onResponse?: (method: string, route: string, status: number) => void;
}

const CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;

/** The routes served without a token. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
]);

declare module 'fastify' {
  interface FastifyRequest {
    /** From `X-Correlation-Id`, or generated; carried into the events it causes. */
    correlationId: string;
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time: the lengths leak nothing either, both sides are hashed first. */
function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(token));
}

interface AjvError {
  readonly instancePath?: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

function problemsOf(error: FastifyError): { path: string; message: string }[] {
  const context = error.validationContext ?? 'body';
  return (
    (error.validation ?? [])
      .map((raw) => {
        const e = raw as AjvError;
        const segments = (e.instancePath ?? '')
          .split('/')
          .filter((s) => s !== '')
          .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
        const params = e.params ?? {};
        const extra =
          (typeof params['additionalProperty'] === 'string' && params['additionalProperty']) ||
          (typeof params['missingProperty'] === 'string' && params['missingProperty']) ||
          (typeof params['propertyName'] === 'string' && params['propertyName']) ||
          undefined;
        let message = e.message ?? 'is invalid';
        if (e.keyword === 'additionalProperties') message = 'is not a known field';
        if (e.keyword === 'propertyNames' && typeof params['propertyName'] === 'string') {
          message = /^hodei[._]/i.test(params['propertyName'])
            ? 'is reserved (hodei. labels, HODEI_ variables)'
            : 'is not a valid name';
        }
        return {
          path: [context, ...segments, ...(extra === undefined ? [] : [extra])].join('.'),
          message,
        };
      })
      .filter(
        (p, i, all) => all.findIndex((q) => q.path === p.path && q.message === p.message) === i,
      )
      // Ajv reports a failed propertyNames twice: the name, then the keyword; keep the first.
      .filter((p) => p.message !== 'property name must be valid')
  );
}

/** The HTTP API of SPEC §8 on Fastify. */
export async function buildHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger === undefined
      ? { logger: false }
      : // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it
        { loggerInstance: deps.logger as FastifyBaseLogger }),
    bodyLimit: deps.bodyLimit ?? 64 * 1024,
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });
  app.decorateRequest('correlationId', '');

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Hodei Lifecycle',
        version: deps.version ?? '0.1.0',
        description: 'Ephemeral worker lifecycle API',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  app.addSchema(errorSchema);
  app.addSchema(policySchema);
  app.addSchema(workerSchema);
  app.addSchema(cloudEventSchema);

  const streams = new Set<ServerResponse>();
  app.addHook('preClose', (done) => {
    for (const s of streams) s.end();
    streams.clear();
    done();
  });

  app.addHook('onRequest', async (request, reply) => {
    const given = request.headers['x-correlation-id'];
    const correlationId =
      typeof given === 'string' && CORRELATION.test(given) ? given : randomUUID();
    request.correlationId = correlationId;
    void reply.header('x-correlation-id', correlationId);
    // Decided on the matched route, never on the raw URL: the router decodes percent-escapes
    // (`/%761/gc` reaches `/v1/gc`). Everything but the public routes needs the token.
    const route = request.routeOptions.url;
    const open = route !== undefined && PUBLIC_ROUTES.has(route);
    if (!open && !tokenMatches(request.headers.authorization, deps.token)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'Unauthorized', message: 'a valid bearer token is required' });
    }
    return undefined;
  });

  app.addHook('onResponse', async (request, reply) => {
    deps.onResponse?.(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation !== undefined) {
      const problems = problemsOf(error);
      return reply.code(400).send({
        error: 'ValidationFailed',
        message: problems.map((p) => `${p.path} ${p.message}`).join('; '),
        problems,
      });
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send({
          error: 'PayloadTooLarge',
          message: `the body is larger than ${deps.bodyLimit ?? 65_536} bytes`,
        });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply
          .code(415)
          .send({ error: 'UnsupportedMediaType', message: 'send application/json' });
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.code(400).send({ error: 'InvalidJson', message: error.message });
      default:
        break;
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply
        .code(error.statusCode)
        .send({ error: error.code ?? 'BadRequest', message: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .code(500)
      .send({ error: 'InternalError', message: 'the server failed; see its log' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: 'NotFound',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    }),
  );

  // Bodiless POSTs (ready, busy, gc) may come with a JSON content type and no body.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (cause) {
      const error = new Error(`the body is not JSON: ${(cause as Error).message}`) as FastifyError;
      (error as { code: string }).code = 'FST_ERR_CTP_INVALID_JSON_BODY';
      (error as { statusCode: number }).statusCode = 400;
      done(error, undefined);
    }
  });

  const ctxOf = (request: FastifyRequest): OperationContext => ({
    actor: 'api',
    correlationId: request.correlationId,
  });
  const fail = (reply: FastifyReply, error: WorkerServiceError) =>
    reply.code(statusOf(error)).send(bodyOf(error));
  const security = [{ bearer: [] }];

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

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
      const result = await deps.service.create(
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- the schema shaped it
        (request.body ?? {}) as CreateWorkerRequest,
        ctxOf(request),
      );
      if (result.isErr()) return fail(reply, result.error);
      return reply.code(result.value.created ? 201 : 200).send(result.value.worker);
    },
  );

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
      const result = await deps.service.list({
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
      const result = await deps.service.get((request.params as { id: string }).id);
      return result.isErr() ? fail(reply, result.error) : reply.send(result.value);
    },
  );

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
        const result = await deps.service.mark(
          (request.params as { id: string }).id,
          to,
          ctxOf(request),
        );
        return result.isErr() ? fail(reply, result.error) : reply.send(result.value);
      },
    );
  }

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
      const result = await deps.service.destroy(
        (request.params as { id: string }).id,
        wait,
        ctxOf(request),
      );
      if (result.isErr()) return fail(reply, result.error);
      return reply.code(result.value.finished ? 200 : 202).send(result.value.worker);
    },
  );

  app.get(
    '/v1/workers/:id/logs',
    {
      schema: {
        summary: "The worker's output as text; ?follow=true streams",
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
      const result = await deps.service.logs((request.params as { id: string }).id, {
        follow: q.follow === 'true',
        ...(q.tail === undefined ? {} : { tail: Number(q.tail) }),
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
        for await (const line of result.value) {
          if (raw.destroyed || raw.writableEnded) break;
          raw.write(`${line.line}\n`);
        }
      } catch (cause) {
        request.log.warn({ err: cause }, 'log stream ended with an error');
      } finally {
        streams.delete(raw);
        if (!raw.writableEnded) raw.end();
      }
      return reply;
    },
  );

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

  app.post(
    '/v1/gc',
    {
      schema: {
        summary: 'Run a deadline pass and a reconciliation now',
        security,
        response: { 200: gcResponse, ...errorResponses },
      },
    },
    async () => deps.service.runPasses(),
  );

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

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const { contentType, body } = await deps.metrics();
    return reply.type(contentType).send(body);
  });

  app.get('/healthz', { schema: { response: { 200: healthResponse } } }, () => ({ status: 'ok' }));

  app.get(
    '/readyz',
    { schema: { response: { 200: healthResponse, 503: healthResponse } } },
    async (_request, reply) => {
      const checks = await deps.readiness();
      const ok = Object.values(checks).every((c) => c.ok);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
    },
  );

  return app;
}
