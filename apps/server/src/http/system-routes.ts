import type { FastifyInstance } from 'fastify';
import { bearerTokenMatches } from './bearer-token.js';
import type { HttpAppDeps } from './http-app-deps.js';
import { healthResponse } from './schemas.js';

/** The routes served without a token: the OpenAPI document, metrics, liveness, readiness. */
export function registerSystemRoutes(
  app: FastifyInstance,
  deps: Pick<HttpAppDeps, 'metrics' | 'readiness' | 'token'>,
): void {
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const { contentType, body } = await deps.metrics();
    return reply.type(contentType).send(body);
  });

  app.get('/healthz', { schema: { response: { 200: healthResponse } } }, () => ({ status: 'ok' }));

  // Anonymous probes learn which check fails; what it says (engine version, socket path,
  // database error) only with the token.
  app.get(
    '/readyz',
    { schema: { response: { 200: healthResponse, 503: healthResponse } } },
    async (request, reply) => {
      const checks = await deps.readiness();
      const ok = Object.values(checks).every((c) => c.ok);
      const detailed = bearerTokenMatches(request.headers.authorization, deps.token);
      return reply.code(ok ? 200 : 503).send({
        status: ok ? 'ready' : 'not ready',
        checks: detailed
          ? checks
          : Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, { ok: c.ok }])),
      });
    },
  );
}
