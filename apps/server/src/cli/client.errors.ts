import type { ErrorJson } from './api-types.js';

/** What can go wrong talking to the server; each says what to do about it. */
export type ClientError =
  | { readonly type: 'NoToken'; readonly file: string }
  | { readonly type: 'Unreachable'; readonly url: string; readonly cause: string }
  | { readonly type: 'Unauthorized'; readonly url: string; readonly tokenSource: string }
  | { readonly type: 'WorkerNotFound'; readonly workerId: string }
  | { readonly type: 'HttpError'; readonly status: number; readonly body: ErrorJson }
  | { readonly type: 'BadResponse'; readonly url: string; readonly message: string };

/** The message for `hodei: …` on stderr: what happened, then what to do. */
export function describeClientError(e: ClientError): string {
  switch (e.type) {
    case 'NoToken':
      return [
        `no API token: set HODEI_API_TOKEN, or run where ${e.file} exists`,
        '  (the server writes its token there when it generates one; HODEI_DATA_DIR moves it)',
      ].join('\n');
    case 'Unreachable':
      return [
        `cannot reach the hodei server at ${e.url} (${e.cause})`,
        "  is it running? start one with 'hodei serve', point at another with --url (or",
        "  HODEI_HTTP_HOST / HODEI_HTTP_PORT), or run 'hodei doctor' to check this machine",
      ].join('\n');
    case 'Unauthorized':
      return [
        `the server at ${e.url} refused the API token (HTTP 401 Unauthorized)`,
        `  the token was read from ${e.tokenSource}; use that server's token: it takes`,
        '  HODEI_API_TOKEN, or generates one into $HODEI_DATA_DIR/api-token (./.hodei/api-token)',
      ].join('\n');
    case 'WorkerNotFound':
      return [
        `worker ${e.workerId} not found (WorkerNotFound, HTTP 404)`,
        "  'hodei workers ls' lists the workers; the history of one cleaned up:",
        `  'hodei events --worker ${e.workerId}'`,
      ].join('\n');
    case 'HttpError':
      return [
        // The message of a 400 lists its problems: each is shown on a line of its own.
        e.body.problems === undefined || e.body.problems.length === 0
          ? `HTTP ${e.status} ${e.body.error}: ${e.body.message}`
          : `HTTP ${e.status} ${e.body.error}:`,
        ...(e.body.problems ?? []).map((p) => `  - ${p.path}: ${p.message}`),
        ...hintFor(e.status),
      ].join('\n');
    case 'BadResponse':
      return `unexpected answer from ${e.url}: ${e.message}`;
    default:
      return assertNever(e);
  }
}

function hintFor(status: number): string[] {
  if (status === 429) return ['  too many workers (HODEI_MAX_WORKERS): retry when some have ended'];
  if (status === 503)
    return ["  the server cannot reach a provider or publisher: see its log, or 'hodei doctor'"];
  return [];
}

const assertNever = (value: never): never => {
  throw new TypeError(`unhandled client error ${JSON.stringify(value)}`);
};
