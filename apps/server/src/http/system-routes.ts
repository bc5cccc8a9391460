import type { FastifyInstance } from 'fastify';
import { bearerTokenMatches } from './bearer-token.js';
import type { HttpAppDeps } from './http-app-deps.js';
import { errors, json, text } from './openapi-responses.js';
import { noSecurity, optionalBearer } from './route-helpers.js';

const tags = ['system'];

/** No route here takes input: only malformed HTTP is refused. */
const malformed = errors([400, 'Malformed HTTP, such as an HTTP/1.1 request without Host']);

/** The routes served without a token: the OpenAPI document, metrics, liveness, readiness. */
export function registerSystemRoutes(
  app: FastifyInstance,
  deps: Pick<HttpAppDeps, 'metrics' | 'readiness' | 'token'>,
): void {
  app.get(
    '/openapi.json',
    {
      schema: {
        operationId: 'getOpenApiDocument',
        summary: 'This OpenAPI 3.1 document',
        tags,
        security: noSecurity,
        response: {
          200: json({ type: 'object', additionalProperties: true }, 'The document'),
          ...malformed,
        },
      },
    },
    () => app.swagger(),
  );

  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        tags,
        security: noSecurity,
        response: {
          200: text('text/plain; version=0.0.4', 'The Prometheus text exposition format'),
          ...malformed,
        },
      },
    },
    async (_request, reply) => {
      const { contentType, body } = await deps.metrics();
      return reply.type(contentType).send(body);
    },
  );

  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'checkLiveness',
        summary: 'Liveness: the process answers',
        tags,
        security: noSecurity,
        response: { 200: json('Health', 'Alive: `{ "status": "ok" }`'), ...malformed },
      },
    },
    () => ({ status: 'ok' }),
  );

  // Anonymous probes learn which check fails; what it says (engine version, socket path,
  // database error) only with the token.
  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'checkReadiness',
        summary: 'Readiness: every provider and the database reachable',
        description: 'Each check’s `detail` only with the bearer token.',
        tags,
        security: optionalBearer,
        response: {
          200: json('Health', 'Ready'),
          503: json('Health', 'Not ready: a check fails'),
          ...malformed,
        },
      },
    },
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
