import type { FastifyInstance } from 'fastify';
import type { WorkerService } from '../workers/worker-service.js';
import { errors, json } from './openapi-responses.js';
import { security } from './route-helpers.js';

/** `POST /v1/gc`: the passes on demand. */
export function registerGcRoutes(app: FastifyInstance, service: WorkerService): void {
  app.post(
    '/v1/gc',
    {
      schema: {
        operationId: 'runPasses',
        summary: 'Run a deadline pass and a reconciliation now',
        description:
          'On every provider; one that cannot run them now (not recovered, or its lock held elsewhere) counts as an error.',
        tags: ['passes'],
        security,
        response: {
          200: json('GcReport', 'What the passes did'),
          ...errors([400, 'The body is not JSON'], 401, 413, 415),
        },
      },
    },
    async () => service.runPasses(),
  );
}
