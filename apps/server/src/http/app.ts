import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from 'fastify';
import { DEFAULT_HTTP_LIMITS } from '../config/http-limits.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { addErrorHandlers } from './error-handler.js';
import { registerEventStreamRoute, registerHistoryRoute } from './event-routes.js';
import { registerEventTicketRoute } from './event-ticket-routes.js';
import { answerClientError, answerFrameworkError, MAX_PATH_SEGMENT } from './framework-errors.js';
import { registerGcRoutes } from './gc-routes.js';
import type { HttpAppDeps } from './http-app-deps.js';
import { addRequestHooks } from './request-hooks.js';
import type { OpenStreams } from './route-helpers.js';
import { openApiOptions } from './openapi-document.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { sessionCookieAuth } from './session-auth.js';
import { registerSessionRoutes } from './session-routes.js';
import { SignInLimiter } from './sign-in-limiter.js';
import { registerSystemRoutes } from './system-routes.js';
import { registerUiRoutes } from './ui-routes.js';
import { rejectMalformedStrings } from './well-formed-input.js';
import { registerWebhookRoutes } from './webhook-routes.js';
import { registerWorkerRoutes } from './worker-routes.js';
import { webhookService } from '../webhooks/webhook-service.js';

export type { HttpAppDeps, ReadinessCheck } from './http-app-deps.js';

/** The HTTP API of SPEC §8 on Fastify. */
export async function buildHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  const limits = deps.limits ?? DEFAULT_HTTP_LIMITS;
  const app = Fastify({
    ...(deps.logger === undefined
      ? { logger: false }
      : // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it
        { loggerInstance: deps.logger as FastifyBaseLogger }),
    bodyLimit: deps.bodyLimit ?? 64 * 1024,
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
    logController: new LogController({ disableRequestLogging: true }),
    // While closing, Fastify's own 503 has neither the error envelope nor Retry-After: a
    // request on a connection still open goes to the routes instead (with Connection: close),
    // where the closed acting gate refuses writes with the documented 503.
    return503OnClosing: false,
    // Only while a request comes in: streamed responses (logs, SSE) may last for hours.
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node looks for expired requests this often; its 30 s default outlasts the limits.
      connectionsCheckingInterval: 1000,
      // Refused in the request hooks instead, with the error envelope.
      requireHostHeader: false,
    },
    routerOptions: { maxParamLength: MAX_PATH_SEGMENT },
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  app.server.maxConnections = limits.maxConnections;
  await registerOpenApi(app, deps.version);

  const streams: OpenStreams = new Set();
  app.addHook('preClose', (done) => {
    for (const s of streams) s.end();
    streams.clear();
    done();
  });
  // Parses `Cookie` in an onRequest hook of its own, before the token check reads it.
  await app.register(cookie);
  const sessions = deps.sessions;
  // The bound on the sign-in's wrong tokens.
  const signInLimiter = deps.signInLimiter ?? new SignInLimiter();
  addRequestHooks(app, {
    ...deps,
    ...(sessions === undefined ? {} : { cookieAuth: sessionCookieAuth(sessions) }),
  });
  rejectMalformedStrings(app);
  addErrorHandlers(app, deps.bodyLimit);
  acceptEmptyJsonBodies(app);

  // In this order, the order of the OpenAPI document's paths.
  registerWorkerRoutes(app, deps.service, streams);
  registerDashboardRoutes(app, {
    service: deps.service,
    recentDeadlines: deps.recentDeadlines,
    now: deps.now ?? Date.now,
  });
  registerHistoryRoute(app, deps);
  registerGcRoutes(app, deps.service);
  registerEventStreamRoute(app, deps, streams);
  if (deps.eventTickets !== undefined)
    registerEventTicketRoute(app, { tickets: deps.eventTickets });
  registerWebhookRoutes(app, deps.webhooks ?? webhookService(undefined));
  if (sessions !== undefined)
    registerSessionRoutes(app, {
      sessions,
      limiter: signInLimiter,
      token: deps.token,
    });
  registerSystemRoutes(app, deps);
  if (deps.ui !== undefined) await registerUiRoutes(app, deps.ui.dir);
  return app;
}

/** The OpenAPI document (`openapi-document.ts`), and the shared schemas routes `$ref`. */
async function registerOpenApi(app: FastifyInstance, version: string | undefined): Promise<void> {
  await app.register(swagger, openApiOptions(version ?? '0.1.0'));
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
}

/** Bodiless POSTs (ready, busy, gc) may come with a JSON content type and no body. */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
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
}
