import type { EnvReader } from './env-reader.js';

/** How long and how many: what one careless or hostile client may hold of the HTTP server. */
export interface HttpLimits {
  /** Until the request line and headers are in. */
  readonly headersTimeoutMs: number;
  /** Until the whole request, body included, is in; a slow body is cut with 408. */
  readonly requestTimeoutMs: number;
  /** How long an idle connection waits for its next request. */
  readonly keepAliveTimeoutMs: number;
  /** Connections open at once; past it, new ones are closed on accept. */
  readonly maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
};

/** `HODEI_HTTP_*_TIMEOUT_SECONDS` and `HODEI_HTTP_MAX_CONNECTIONS`. */
export function readHttpLimits(reader: EnvReader): HttpLimits {
  const headersTimeoutMs = reader.seconds(
    'HODEI_HTTP_HEADERS_TIMEOUT_SECONDS',
    DEFAULT_HTTP_LIMITS.headersTimeoutMs,
  );
  const requestTimeoutMs = reader.seconds(
    'HODEI_HTTP_REQUEST_TIMEOUT_SECONDS',
    DEFAULT_HTTP_LIMITS.requestTimeoutMs,
  );
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (headersTimeoutMs > requestTimeoutMs) {
    reader.problem(
      'HODEI_HTTP_HEADERS_TIMEOUT_SECONDS',
      String(headersTimeoutMs / 1000),
      `whole seconds from 1 to HODEI_HTTP_REQUEST_TIMEOUT_SECONDS (${requestTimeoutMs / 1000})`,
    );
  }
  return {
    headersTimeoutMs: Math.min(headersTimeoutMs, requestTimeoutMs),
    requestTimeoutMs,
    keepAliveTimeoutMs: reader.seconds(
      'HODEI_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS',
      DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs,
    ),
    maxConnections: reader.integer(
      'HODEI_HTTP_MAX_CONNECTIONS',
      DEFAULT_HTTP_LIMITS.maxConnections,
      1,
      1_000_000,
      'a whole number of connections from 1 to 1000000',
    ),
  };
}
