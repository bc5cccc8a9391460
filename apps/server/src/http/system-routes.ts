import type { FastifyInstance } from 'fastify';
import type { HttpAppDeps } from './http-app-deps.js';
import { healthResponse } from './schemas.js';

/** The routes served without a token: the OpenAPI document, metrics, liveness, readiness. */
export function registerSystemRoutes(
  app: FastifyInstance,
  deps: Pick<HttpAppDeps, 'metrics' | 'readiness'>,
): void {
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

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
}
