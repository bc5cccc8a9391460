import type { FastifyInstance } from 'fastify';
import type { ActingGate } from './acting-gate.js';

/** How long a client should wait before it tries a refused write again, in seconds. */
export const NOT_ACTING_RETRY_AFTER_SECONDS = 5;

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request changes workers or runs passes: every non-read on `/v1/workers`, `/v1/gc`. */
const isWorkerWrite = (method: string, url: string): boolean =>
  !READS.has(method) && (url.startsWith('/v1/workers') || url.startsWith('/v1/gc'));

/**
 * Refuses every API write while the gate is closed, before it reaches a use case: 503
 * `ProviderNotRecovered` with Retry-After, naming why (shutting down, provider lock lost,
 * database unreachable). Reads, the probes and the event streams answer as ever.
 */
export function refuseWritesWhileHalted(app: FastifyInstance, gate: ActingGate): void {
  app.addHook('onRequest', async (request, reply) => {
    if (gate.acting || !isWorkerWrite(request.method, request.url)) return;
    await reply
      .code(503)
      .header('retry-after', String(NOT_ACTING_RETRY_AFTER_SECONDS))
      .send({
        error: 'ProviderNotRecovered',
        message: `this server does not change workers now (${gate.why ?? ''}); try again`,
      });
  });
}
