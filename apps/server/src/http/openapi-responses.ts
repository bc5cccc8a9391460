/**
 * The `response` part of route schemas, in the content form Fastify and @fastify/swagger both
 * read: a description, the response headers, a schema per media type. Each route lists only
 * the errors it can give.
 */

/** Echoed from the request, or generated; `openapi-document.ts` makes it a shared header. */
export const CORRELATION_HEADER = 'X-Correlation-Id';

type Headers = Readonly<Record<string, { readonly type: string; readonly description: string }>>;

interface ResponseOptions {
  readonly headers?: Headers;
  /** False where the response is written before or past the request hooks. */
  readonly correlated?: boolean;
}

const headersOf = (o: ResponseOptions): { headers?: Headers } => {
  const headers: Headers = {
    ...(o.correlated === false
      ? {}
      : { [CORRELATION_HEADER]: { type: 'string', description: 'the correlation id' } }),
    ...o.headers,
  };
  return Object.keys(headers).length === 0 ? {} : { headers };
};

/** A JSON response of the shared schema `ref` (`Worker`, `WorkerPage`, …), or of `schema`. */
export const json = (ref: string | object, description: string, o: ResponseOptions = {}) => ({
  description,
  ...headersOf(o),
  content: { 'application/json': { schema: typeof ref === 'string' ? { $ref: `${ref}#` } : ref } },
});

/** A response of `mediaType` whose body is text (logs, metrics, Server-Sent Events). */
export const text = (mediaType: string, description: string, o: ResponseOptions = {}) => ({
  description,
  ...headersOf(o),
  content: { [mediaType]: { schema: { type: 'string' } } },
});

const ERRORS = {
  400: 'Invalid input (`problems` lists each: a field, the path id, the query, the JSON), or malformed HTTP such as an HTTP/1.1 request without Host',
  401: 'No valid bearer token or session cookie',
  404: 'No such worker (also after its cleanup)',
  409: 'The worker’s state or mode does not allow it',
  413: 'The body is larger than the server accepts (64 KiB)',
  414: 'A path segment is longer than 100 characters',
  415: 'The body is not JSON, or it is compressed (Content-Encoding)',
  429: 'The provider runs HODEI_MAX_WORKERS live workers already',
  500: 'A fault of the server (logged with its cause and the correlation id); the body says nothing more',
  503: 'The provider or the event store cannot serve it now; retry',
} as const;

export type ErrorStatus = keyof typeof ERRORS;

/** Sent with a 429, and with the 503 of too many resumes. */
export const RETRY_AFTER: Headers = {
  'Retry-After': { type: 'integer', description: 'seconds to wait before a retry' },
};

const OPTIONS: Partial<Record<ErrorStatus, ResponseOptions>> = {
  401: { headers: { 'WWW-Authenticate': { type: 'string', description: '`Bearer`' } } },
  // The router refuses the path before any hook runs.
  414: { correlated: false },
  429: { headers: RETRY_AFTER },
};

type ErrorEntry =
  ErrorStatus | readonly [ErrorStatus, string] | readonly [ErrorStatus, string, Headers];

/**
 * The error responses of a route, in the `Error` envelope: a status with its usual meaning,
 * or `[status, what it means on this route, headers sent with it]`.
 */
export function errors(
  ...statuses: readonly ErrorEntry[]
): Partial<Record<ErrorStatus, ReturnType<typeof json>>> {
  // Any route may meet a fault of its own: every operation documents the 500.
  const all: readonly ErrorEntry[] = statuses.some(
    (s) => (typeof s === 'number' ? s : s[0]) === 500,
  )
    ? statuses
    : [...statuses, 500];
  return Object.fromEntries(
    all.map((s) => {
      const [status, description, headers] = typeof s === 'number' ? [s, ERRORS[s]] : s;
      const options = { ...OPTIONS[status], ...(headers === undefined ? {} : { headers }) };
      return [status, json('Error', description, options)];
    }),
  );
}
