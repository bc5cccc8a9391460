import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
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

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time: the lengths leak nothing either, both sides are hashed first. */
function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(token));
}

/**
 * On every request: its correlation id (echoed in the response), the bearer token check, and
 * once answered, the count for the metrics.
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
}
