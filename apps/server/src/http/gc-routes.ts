import type { FastifyInstance } from 'fastify';
import type { WorkerService } from '../workers/worker-service.js';
import { security } from './route-helpers.js';
import { errorResponses, gcResponse } from './schemas.js';

/** `POST /v1/gc`: the passes on demand. */
export function registerGcRoutes(app: FastifyInstance, service: WorkerService): void {
  app.post(
    '/v1/gc',
    {
      schema: {
        summary: 'Run a deadline pass and a reconciliation now',
        security,
        response: { 200: gcResponse, ...errorResponses },
      },
    },
    async () => service.runPasses(),
  );
}
