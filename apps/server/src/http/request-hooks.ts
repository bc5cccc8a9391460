import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { bearerTokenMatches } from './bearer-token.js';
import type { HttpAppDeps } from './http-app-deps.js';

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

const hasBody = (raw: IncomingMessage): boolean =>
  raw.headers['transfer-encoding'] !== undefined ||
  (raw.headers['content-length'] !== undefined && raw.headers['content-length'] !== '0');

/**
 * On every request: the Host check, its correlation id (echoed in the response), the bearer
 * token check, the refusal of encoded bodies, and once answered, the count for the metrics.
 */
export function addRequestHooks(
  app: FastifyInstance,
  deps: Pick<HttpAppDeps, 'token' | 'onResponse'>,
): void {
  app.decorateRequest('correlationId', '');

  app.addHook('onRequest', async (request, reply) => {
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
    const open = route !== undefined && PUBLIC_ROUTES.has(route);
    if (!open && !bearerTokenMatches(request.headers.authorization, deps.token)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'Unauthorized', message: 'a valid bearer token is required' });
    }
    return undefined;
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

  // Answered before its body is in (401, 413, 415): close rather than read the rest of it.
  app.addHook('onSend', async (request, reply) => {
    if (!request.raw.complete) void reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    deps.onResponse?.(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode);
  });
}
