import type { ServerResponse } from 'node:http';
import type { OperationContext } from '@hodei/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WorkerServiceError } from '../workers/service.errors.js';
import { bodyOf, statusOf } from './error-mapping.js';

/** Responses streamed past Fastify (logs, SSE); ended when the server closes. */
export type OpenStreams = Set<ServerResponse>;

/** The OpenAPI security requirement of every `/v1` route. */
export const security = [{ bearer: [] }];

export const ctxOf = (request: FastifyRequest): OperationContext => ({
  actor: 'api',
  correlationId: request.correlationId,
});

export const fail = (reply: FastifyReply, error: WorkerServiceError): FastifyReply =>
  reply.code(statusOf(error)).send(bodyOf(error));
