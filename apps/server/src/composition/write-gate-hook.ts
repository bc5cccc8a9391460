import type { FastifyInstance } from 'fastify';
import type { ActingGate } from './acting-gate.js';

/** How long a client should wait before it tries a refused write again, in seconds. */
export const NOT_ACTING_RETRY_AFTER_SECONDS = 5;

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request changes workers or runs passes: every non-read on a `/v1/workers` or
 * `/v1/gc` route. Judged by the route it matched, not by the raw URL: the router decodes the
 * path first, so `/v1/%77orkers` reaches the same handler. An unmatched path (no route) gets
 * its normal 404.
 */
const isWorkerWrite = (method: string, route: string | undefined): boolean =>
  route !== undefined &&
  !READS.has(method) &&
  (route === '/v1/workers' || route.startsWith('/v1/workers/') || route === '/v1/gc');

/**
 * Refuses every API write while the gate is closed, before it reaches a use case: 503
 * `ProviderNotRecovered` with Retry-After, naming why (shutting down, provider lock lost,
 * database unreachable). Reads, the probes and the event streams answer as ever.
 */
export function refuseWritesWhileHalted(app: FastifyInstance, gate: ActingGate): void {
  app.addHook('onRequest', async (request, reply) => {
    if (gate.acting || !isWorkerWrite(request.method, request.routeOptions.url)) return;
    await reply
      .code(503)
      .header('retry-after', String(NOT_ACTING_RETRY_AFTER_SECONDS))
      .send({
        error: 'ProviderNotRecovered',
        message: `this server does not change workers now (${gate.why ?? ''}); try again`,
      });
  });
}
