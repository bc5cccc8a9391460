import type { FastifyRequest } from 'fastify';
import type { SessionStore } from './session-store.js';

/** The cookie that carries a browser session's id. */
export const SESSION_COOKIE = 'hodei_session';
export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change nothing: a cookie alone lets them in (SameSite=Strict keeps others out). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** What the session cookie says of a request that has no valid bearer token. */
export type CookieCheck =
  | { readonly type: 'none' }
  | { readonly type: 'accepted'; readonly sessionId: string }
  | { readonly type: 'refused'; readonly error: string; readonly message: string };

export const sessionIdOf = (request: FastifyRequest): string | undefined => {
  const value = (request.cookies as Record<string, string | undefined> | undefined)?.[
    SESSION_COOKIE
  ];
  return value === undefined || value === '' ? undefined : value;
};

/** The `host[:port]` of an `Origin` header, or undefined when it has none (`null`, garbage). */
const hostOfOrigin = (origin: string): string | undefined => {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : undefined;
  } catch {
    return undefined;
  }
};

/**
 * For the token check: a request that carries a valid session cookie instead of the bearer
 * token. Anything but GET and HEAD must also send the session's CSRF token in `X-CSRF-Token`
 * and, when it has an `Origin`, come from this server's own: a cookie is sent by the browser
 * whoever wrote the page, a header only by the page that read the token. The Origin is
 * compared by host (name and port): a TLS proxy in front changes the scheme the server sees,
 * not the host.
 */
export function sessionCookieAuth(
  sessions: SessionStore,
): (request: FastifyRequest) => CookieCheck {
  return (request) => {
    const id = sessionIdOf(request);
    if (id === undefined || sessions.find(id) === undefined) return { type: 'none' };
    if (SAFE_METHODS.has(request.method)) return { type: 'accepted', sessionId: id };
    const origin = request.headers.origin;
    if (origin !== undefined && hostOfOrigin(origin) !== request.host)
      return {
        type: 'refused',
        error: 'ForeignOrigin',
        message: `a request made with the session cookie must come from this server's origin, not ${origin}`,
      };
    const given = request.headers[CSRF_HEADER];
    if (!sessions.csrfMatches(id, typeof given === 'string' ? given : undefined))
      return {
        type: 'refused',
        error: 'CsrfTokenMismatch',
        message:
          'a request made with the session cookie needs X-CSRF-Token: the csrfToken of GET /v1/session',
      };
    return { type: 'accepted', sessionId: id };
  };
}
