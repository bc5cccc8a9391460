import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tokensMatch } from './bearer-token.js';
import { errors, json } from './openapi-responses.js';
import { noSecurity, security } from './route-helpers.js';
import { SESSION_COOKIE, sessionIdOf } from './session-auth.js';
import type { SessionStore } from './session-store.js';
import { tooManyWrongTokens, type SignInLimiter } from './sign-in-limiter.js';

export interface SessionRouteDeps {
  readonly sessions: SessionStore;
  readonly limiter: SignInLimiter;
  readonly token: string;
}

const tags = ['session'];
const NO_STORE = { 'Cache-Control': { type: 'string', description: '`no-store`' } };
const SET_COOKIE = {
  ...NO_STORE,
  'Set-Cookie': {
    type: 'string',
    description: '`hodei_session=<id>; HttpOnly; SameSite=Strict; Path=/`, and `Secure` over https',
  },
};

/** A cookie the page's scripts cannot read, sent back to this server's pages only. */
const cookieOptions = (request: FastifyRequest) =>
  ({
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: request.protocol === 'https',
  }) as const;

const unauthorized = (reply: FastifyReply, error: string, message: string): FastifyReply =>
  reply.code(401).header('www-authenticate', 'Bearer').send({ error, message });

/**
 * `/v1/session`: a browser trades the API token for an HttpOnly session cookie, so the
 * token is never kept in the page, a URL or its storage; the cookie then opens every `/v1`
 * route, changes with the session's CSRF token. `POST` needs no credentials (the token is its
 * body); wrong tokens are bounded per client address.
 */
export function registerSessionRoutes(app: FastifyInstance, deps: SessionRouteDeps): void {
  const ttlSeconds = Math.round(deps.sessions.ttlMs / 1000);
  app.post(
    '/v1/session',
    {
      schema: {
        operationId: 'signIn',
        summary: 'Trade the API token for a browser session cookie',
        description: `The token is checked in constant time and never sent back. The session lasts ${ttlSeconds} s, in this server's memory: a restart signs everyone out. Wrong tokens are bounded per client address: past the bound every sign-in from it is refused until Retry-After, the right token too (else the answer would tell a guesser which try was right). Behind a reverse proxy every client has the proxy's address. Wrong bearer tokens are not bounded: they get their 401 and hold nobody back.`,
        tags,
        security: noSecurity,
        body: { $ref: 'SignInRequest#' },
        response: {
          201: json('Session', 'Signed in: the cookie is set', { headers: SET_COOKIE }),
          ...errors(
            [400, 'The body is not `{ "token": "…" }`'],
            [401, 'Not the API token (`InvalidToken`)'],
            413,
            415,
            [
              429,
              'Too many wrong tokens from this address: every try is refused until Retry-After seconds',
            ],
          ),
        },
      },
    },
    async (request, reply) => signIn(request, reply, deps),
  );

  app.get(
    '/v1/session',
    {
      schema: {
        operationId: 'getSession',
        summary: 'The session of this browser’s cookie, and its CSRF token',
        description:
          'For a page reloaded: the csrfToken is kept in memory only, so it is read again here.',
        tags,
        security,
        response: {
          200: json('Session', 'The cookie’s session', { headers: NO_STORE }),
          ...errors(400, [401, 'No valid session cookie (expired, signed out, or none sent)']),
        },
      },
    },
    async (request, reply) => {
      const session = deps.sessions.find(sessionIdOf(request));
      if (session === undefined)
        return unauthorized(reply, 'NoSession', 'no valid session cookie: sign in again');
      return reply.header('cache-control', 'no-store').send(session);
    },
  );

  app.delete(
    '/v1/session',
    {
      schema: {
        operationId: 'signOut',
        summary: 'Sign out: the session is forgotten and its cookie cleared',
        description:
          'Needs no credentials: whatever session the cookie names is forgotten (its live streams end) and the cookie cleared; without a valid one, the cookie is cleared all the same.',
        tags,
        security: noSecurity,
        response: {
          204: {
            description:
              'Signed out, the cookie cleared (also when the request had no valid session)',
            type: 'null',
          },
          ...errors([400, 'The body is not JSON'], 413, 415),
        },
      },
    },
    async (request, reply) => {
      deps.sessions.forget(sessionIdOf(request));
      return reply
        .code(204)
        .header('cache-control', 'no-store')
        .clearCookie(SESSION_COOKIE, cookieOptions(request))
        .send();
    },
  );
}

/**
 * Past the bound every sign-in from the address is refused unchecked, the right token too: a
 * 429 for wrong tries only would tell a guesser which try was right.
 */
function signIn(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: SessionRouteDeps,
): FastifyReply {
  const client = request.ip;
  const wait = deps.limiter.retryAfterSeconds(client);
  if (wait > 0) return tooManyWrongTokens(reply, wait);
  const { token } = request.body as { token: string };
  if (!tokensMatch(token, deps.token)) {
    deps.limiter.wrongToken(client);
    return unauthorized(reply, 'InvalidToken', 'that is not the API token');
  }
  const { id, ...session } = deps.sessions.issue();
  return reply
    .code(201)
    .header('cache-control', 'no-store')
    .setCookie(SESSION_COOKIE, id, cookieOptions(request))
    .send(session);
}
