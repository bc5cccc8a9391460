import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { redactSecrets, serializeErrors } from '@hodei/logger-publisher';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pino, type Level, type LevelWithSilent } from 'pino';
import { bearerTokenMatches } from './bearer-token.js';
import { failureBehind } from './error-mapping.js';
import type { HttpAppDeps } from './http-app-deps.js';
import { UI_ROUTES } from './ui-routes.js';

const CORRELATION = /^[A-Za-z0-9._:-]{1,128}$/;

/** The routes served without a token. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  '/healthz',
  '/readyz',
  '/metrics',
  '/openapi.json',
  ...UI_ROUTES,
]);

/** The dashboard's session: without a cookie, its 401 says to sign in. */
const SESSION_ROUTE = '/v1/session';

/**
 * The dashboard's paths: with the dashboard off (HODEI_UI_ENABLED=false) no route matches them,
 * and they answer 404 as any unknown path, not 401 (there is nothing a token would open).
 */
const UI_PATH = /^\/ui(?:[/?#]|$)/;

/** Routes served without a token for one method: the sign-in trades the token in its body;
 * the sign-out forgets whatever session the cookie names, and clears it. */
const PUBLIC_OPERATIONS: ReadonlySet<string> = new Set(['POST /v1/session', 'DELETE /v1/session']);

/** Live responses: opened with a session's cookie, they end when the session ends. */
const STREAM_ROUTES: ReadonlySet<string> = new Set(['/v1/events', '/v1/workers/:id/logs']);

/** Asked every few seconds by probes and scrapers: their lines go at debug, not with the rest. */
const PROBE_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** A path longer than this is cut in the log line (the route names what was asked). */
const MAX_LOGGED_PATH = 256;

/** What a 5xx answer was about: the error of its body and, when known, the cause behind it. */
export interface RequestFailure {
  readonly error: string;
  readonly message: string;
  readonly cause?: unknown;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** From `X-Correlation-Id`, or generated; carried into the events it causes. */
    correlationId: string;
    /** Set for a 5xx answer, for its log line. */
    failure: RequestFailure | undefined;
  }
}

const hasBody = (raw: IncomingMessage): boolean =>
  raw.headers['transfer-encoding'] !== undefined ||
  (raw.headers['content-length'] !== undefined && raw.headers['content-length'] !== '0');

/**
 * On every request: the Host check, its correlation id (echoed in the response), the bearer
 * token check, the refusal of encoded bodies, and once answered, its log line and metrics.
 * Wrong bearer tokens count against the sign-in's bound per client address (429 past it); a
 * right one is never held back.
 */
export function addRequestHooks(
  app: FastifyInstance,
  deps: Pick<
    HttpAppDeps,
    'token' | 'onResponse' | 'ticketAuth' | 'cookieAuth' | 'sessions' | 'logger' | 'requestLogLevel'
  >,
): void {
  app.decorateRequest('correlationId', '');
  app.decorateRequest('failure', undefined);

  const writeLine = requestLogger(deps);
  const answered = new WeakSet<FastifyRequest>();
  /** The request's line and metrics, once: on `finish`, or on `close` for a hijacked stream. */
  const observe = (request: FastifyRequest, reply: FastifyReply): void => {
    if (answered.has(request)) return;
    answered.add(request);
    const route = request.routeOptions.url ?? 'unmatched';
    writeLine(request, reply, route);
    deps.onResponse?.(request.method, route, reply.statusCode, reply.elapsedTime);
  };

  app.addHook('onRequest', async (request, reply) => {
    // A hijacked stream (SSE, followed logs) skips onResponse when the client goes away;
    // `sent` tells it from a request whose client left before any answer.
    reply.raw.once('close', () => {
      if (reply.sent) observe(request, reply);
    });
    const given = request.headers['x-correlation-id'];
    const correlationId =
      typeof given === 'string' && CORRELATION.test(given) ? given : randomUUID();
    request.correlationId = correlationId;
    void reply.header('x-correlation-id', correlationId);
    // Node's own refusal has no body; this one has the envelope (RFC 9112 §3.2).
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return reply
        .code(400)
        .send({ error: 'MalformedRequest', message: 'an HTTP/1.1 request needs a Host header' });
    }
    // Decided on the matched route, never on the raw URL: the router decodes percent-escapes
    // (`/%761/gc` reaches `/v1/gc`). Everything but the public routes needs the token.
    const route = request.routeOptions.url;
    const open =
      route !== undefined &&
      (PUBLIC_ROUTES.has(route) || PUBLIC_OPERATIONS.has(`${request.method} ${route}`));
    const absentUi = route === undefined && UI_PATH.test(request.url);
    if (
      open ||
      absentUi ||
      bearerTokenMatches(request.headers.authorization, deps.token) ||
      (route !== undefined && deps.ticketAuth?.(route, request) === true)
    )
      return undefined;
    return withoutBearer(request, reply, route, deps);
  });

  // Parsed as it is, a compressed body would be read as garbage or, worse, as something else.
  app.addHook('preParsing', async (request, reply) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined || !hasBody(request.raw)) return undefined;
    if (encoding.trim().toLowerCase() === 'identity') return undefined;
    return reply.code(415).send({
      error: 'UnsupportedMediaType',
      message: `Content-Encoding ${encoding} is not accepted; send the body uncompressed`,
    });
  });

  // A 5xx body names its error; the error it was made from holds the cause (see `bodyOf`).
  app.addHook('preSerialization', async (request, reply, payload) => {
    if (reply.statusCode >= 500 && request.failure === undefined)
      request.failure = failureOfBody(payload);
    return payload;
  });

  // Answered before its body is in (401, 413, 415): close rather than read the rest of it.
  app.addHook('onSend', async (request, reply) => {
    if (!request.raw.complete) void reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    observe(request, reply);
  });
}

/**
 * A request without the bearer token: a browser's session cookie lets it in (and ties a
 * stream to the session), a change without its CSRF token is refused; else the answer is 401.
 */
function withoutBearer(
  request: FastifyRequest,
  reply: FastifyReply,
  route: string | undefined,
  deps: Pick<HttpAppDeps, 'cookieAuth' | 'sessions'>,
): FastifyReply | undefined {
  // Without the bearer token, a browser's session cookie (and for a change, its CSRF token).
  const cookie = deps.cookieAuth?.(request) ?? { type: 'none' };
  if (cookie.type === 'accepted') {
    if (route !== undefined && STREAM_ROUTES.has(route))
      deps.sessions?.holdStream(cookie.sessionId, reply.raw);
    return undefined;
  }
  if (cookie.type === 'refused')
    return reply.code(403).send({ error: cookie.error, message: cookie.message });
  // A wrong bearer token gets its 401 and locks nobody out: one client with a stale token
  // must not shut out the others on its host; the token (16 characters or more, generated:
  // 32 random bytes) is not guessable at the rate the API answers.
  // The dashboard asks GET /v1/session on load: without a live session it is told to sign in.
  const message =
    request.method === 'GET' && route === SESSION_ROUTE
      ? 'no valid session cookie: sign in'
      : 'a valid bearer token is required';
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer')
    .send({ error: 'Unauthorized', message });
}

function failureOfBody(payload: unknown): RequestFailure | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { error, message } = payload as { error?: unknown; message?: unknown };
  if (typeof error !== 'string' || typeof message !== 'string') return undefined;
  const behind = failureBehind(payload) as { readonly cause?: unknown } | undefined;
  return behind?.cause === undefined ? { error, message } : { error, message, cause: behind.cause };
}

/** The more verbose of two levels (`trace` over `debug`). */
const moreVerbose = (a: Level, b: Level): Level =>
  pino.levels.values[a]! <= pino.levels.values[b]! ? a : b;

/**
 * One line per answered request — method, route, path, status, duration, correlation id — at
 * the configured level; a 5xx at error, whatever that level, with the error and its cause.
 * The probes stay at debug, a 503 too (not ready, closing): they ask every few seconds, and a
 * degraded provider is logged when it fails, not on every probe. A 500 is a bug: at error.
 */
function requestLogger(
  deps: Pick<HttpAppDeps, 'logger' | 'requestLogLevel'>,
): (request: FastifyRequest, reply: FastifyReply, route: string) => void {
  const logger = deps.logger;
  if (logger === undefined) return () => undefined;
  const configured: LevelWithSilent = deps.requestLogLevel ?? 'info';
  const probes: LevelWithSilent =
    configured === 'silent' ? 'silent' : moreVerbose(configured, 'debug');
  const levelOf = (status: number, route: string): LevelWithSilent => {
    if (PROBE_ROUTES.has(route) && status !== 500) return probes;
    return status >= 500 ? 'error' : configured;
  };
  return (request, reply, route) => {
    const status = reply.statusCode;
    const level = levelOf(status, route);
    if (level === 'silent' || !logger.isLevelEnabled(level)) return;
    const path = (request.url.split('?')[0] ?? '').slice(0, MAX_LOGGED_PATH);
    const fields: Record<string, unknown> = {
      method: request.method,
      route,
      path,
      status,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      correlationId: request.correlationId,
    };
    if (status < 500) {
      logger[level](fields, 'request completed');
      return;
    }
    const failure = request.failure;
    if (failure !== undefined) {
      fields['error'] = { type: failure.error, message: failure.message };
      if (failure.cause !== undefined)
        fields['cause'] = redactSecrets(serializeErrors(failure.cause));
    }
    logger[level](fields, 'request failed');
  };
}
