import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventTicketStore } from '../events/event-ticket-store.js';
import { errors, json } from './openapi-responses.js';
import { security } from './route-helpers.js';

export interface EventTicketRouteDeps {
  readonly tickets: EventTicketStore;
}

/** The only route a ticket opens. */
export const TICKET_ROUTE = '/v1/events';

export const eventTicketResponse = {
  type: 'object',
  required: ['ticket', 'expiresAt'],
  additionalProperties: false,
  properties: {
    ticket: {
      type: 'string',
      description: 'Pass as GET /v1/events?ticket=…; opens event streams only, until expiresAt',
    },
    expiresAt: { type: 'string', format: 'date-time' },
  },
} as const;

/**
 * `POST /v1/events/tickets` (bearer token): a short-lived ticket for a browser's
 * `new EventSource('/v1/events?ticket=…')`, which cannot send the Authorization header.
 */
export function registerEventTicketRoute(app: FastifyInstance, deps: EventTicketRouteDeps): void {
  app.post(
    '/v1/events/tickets',
    {
      schema: {
        operationId: 'createEventTicket',
        summary: 'A short-lived ticket that opens GET /v1/events from a browser',
        description: `For clients that cannot send the bearer header (a browser's EventSource): GET /v1/events?ticket=<ticket> is accepted until expiresAt (${deps.tickets.ttlMs / 1000} s), reconnects included; a stream it opened stays open after. It opens no other route. Never put the API token in a URL.`,
        tags: ['events'],
        security,
        response: {
          201: json(eventTicketResponse, 'The ticket, and when it stops opening streams', {
            headers: { 'Cache-Control': { type: 'string', description: '`no-store`' } },
          }),
          ...errors([400, 'The body is not JSON'], 401, 413, 415),
        },
      },
    },
    async (_request, reply) =>
      reply.code(201).header('cache-control', 'no-store').send(deps.tickets.issue()),
  );
}

/**
 * For the token check (`HttpAppDeps.ticketAuth`): whether a request without the bearer token
 * may pass on a ticket — only `GET /v1/events`, with `?ticket=` valid now.
 */
export function eventTicketAuth(
  tickets: EventTicketStore,
): (route: string, request: FastifyRequest) => boolean {
  return (route, request) => {
    if (route !== TICKET_ROUTE || request.method !== 'GET') return false;
    const query = request.query as Record<string, unknown> | undefined;
    const ticket = query?.['ticket'];
    return typeof ticket === 'string' && tickets.isValid(ticket);
  };
}
