import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventTicketStore } from '../events/event-ticket-store.js';
import { bearerTokenMatches } from './bearer-token.js';
import { eventTicketAuth, registerEventTicketRoute } from './event-ticket-routes.js';
import { errorSchema } from './schemas.js';

const TOKEN = 'route-test-token';

/**
 * The ticket route with a token check as the server's: the bearer token, or else
 * `ticketAuth`; `/v1/events` and `/v1/workers` answer who let them in.
 */
async function appWith(tickets: EventTicketStore): Promise<FastifyInstance> {
  const app = Fastify();
  app.addSchema(errorSchema);
  const ticketAuth = eventTicketAuth(tickets);
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (bearerTokenMatches(request.headers.authorization, TOKEN)) return undefined;
    if (route !== undefined && ticketAuth(route, request)) return undefined;
    return reply
      .code(401)
      .send({ error: 'Unauthorized', message: 'a valid bearer token is required' });
  });
  registerEventTicketRoute(app, { tickets });
  app.get('/v1/events', (_request, reply) => reply.send({ streaming: true }));
  app.post('/v1/events', (_request, reply) => reply.send({ posted: true }));
  app.get('/v1/workers', (_request, reply) => reply.send({ items: [] }));
  await app.ready();
  return app;
}

describe('POST /v1/events/tickets and the tickets it gives', () => {
  let now = Date.parse('2025-06-01T12:00:00.000Z');
  const tickets = new EventTicketStore({ now: () => now });
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await appWith(tickets);
  });

  afterAll(async () => {
    await app?.close();
  });

  const issue = async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/events/tickets',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return { response, body: response.json<{ ticket: string; expiresAt: string }>() };
  };

  it('answers 201 with a ticket and its expiry, not to be cached, only with the bearer token', async () => {
    const { response, body } = await issue();
    expect(response.statusCode).toBe(201);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(body).toEqual({ ticket: expect.any(String), expiresAt: '2025-06-01T12:01:00.000Z' });
    const anonymous = await app.inject({ method: 'POST', url: '/v1/events/tickets' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('opens GET /v1/events without the bearer header, again within its minute, and not after', async () => {
    const { body } = await issue();
    const open = () => app.inject({ method: 'GET', url: `/v1/events?ticket=${body.ticket}` });
    expect((await open()).statusCode).toBe(200);
    now += 30_000;
    expect((await open()).statusCode).toBe(200);
    now += 30_000;
    expect((await open()).statusCode).toBe(401);
  });

  it('opens nothing else: another route, another method, a ticket it did not issue', async () => {
    const { body } = await issue();
    const statusOf = async (method: 'GET' | 'POST', url: string) =>
      (await app.inject({ method, url })).statusCode;
    expect(await statusOf('GET', `/v1/workers?ticket=${body.ticket}`)).toBe(401);
    expect(await statusOf('POST', `/v1/events?ticket=${body.ticket}`)).toBe(401);
    expect(await statusOf('POST', `/v1/events/tickets?ticket=${body.ticket}`)).toBe(401);
    expect(await statusOf('GET', `/v1/events?ticket=${body.ticket.slice(0, -2)}xx`)).toBe(401);
    expect(await statusOf('GET', `/v1/events?ticket=${TOKEN}`)).toBe(401);
    expect(await statusOf('GET', '/v1/events?ticket=')).toBe(401);
  });
});
