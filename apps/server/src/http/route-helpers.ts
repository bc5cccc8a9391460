import type { ServerResponse } from 'node:http';
import type { OperationContext } from '@hodei/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WorkerServiceError } from '../workers/service.errors.js';
import { bodyOf, statusOf } from './error-mapping.js';

/** Responses streamed past Fastify (logs, SSE); ended when the server closes. */
export type OpenStreams = Set<ServerResponse>;

/** The OpenAPI security requirement of every `/v1` route: the token, or a browser's session. */
export const security = [{ bearer: [] }, { session: [] }];

/** `GET /v1/events`: the bearer token, a browser's session, or a browser's ticket in the query. */
export const bearerOrTicket = [{ bearer: [] }, { session: [] }, { ticket: [] }];

/** The routes served without a token. */
export const noSecurity: Record<string, string[]>[] = [];

/** `/readyz`: anonymous, or with the token for the details. */
export const optionalBearer = [{}, { bearer: [] }];

export const ctxOf = (request: FastifyRequest): OperationContext => ({
  actor: 'api',
  correlationId: request.correlationId,
});

/**
 * A worker limit frees up as workers end, which no one can predict; a few seconds spare the
 * server clients that retry at once in a loop.
 */
const RETRY_AFTER_SECONDS = 5;

export const fail = (reply: FastifyReply, error: WorkerServiceError): FastifyReply => {
  const status = statusOf(error);
  // All pass with time: the limit as workers end, a recovery at a later attempt, the event
  // log's backlog as it drains.
  if (
    status === 429 ||
    error.type === 'ProviderNotRecovered' ||
    error.type === 'PublisherBackpressure'
  )
    void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return reply.code(status).send(bodyOf(error));
};
