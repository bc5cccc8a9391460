import { err, errAsync, ok, okAsync, ResultAsync } from 'neverthrow';
import type { ErrorJson } from './api-types.js';
import type { ClientConfig } from './client-config.js';
import type { ClientError } from './client.errors.js';

export interface RequestOptions {
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface JsonAnswer<T> {
  readonly status: number;
  readonly body: T;
  /** The response's headers (a policy change's Hodei-Policy-Changed…). */
  readonly headers?: Headers;
}

const causeOf = (e: unknown): string => {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
};

/** The worker a `/v1/workers/{id}…` path is about. */
const workerOfPath = (path: string): string | undefined => {
  const match = /^\/v1\/workers\/([^/?]+)/.exec(path);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
};

/** Calls to the server's `/v1` API with the bearer token; every failure a `ClientError`. */
export class HodeiClient {
  constructor(readonly config: ClientConfig) {}

  get url(): string {
    return this.config.url;
  }

  /** A response with a 2xx status (its body unread), or what went wrong. */
  request(
    method: string,
    path: string,
    o: RequestOptions = {},
  ): ResultAsync<Response, ClientError> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.config.token}`,
      ...o.headers,
    };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    return ResultAsync.fromPromise(
      fetch(`${this.config.url}${path}`, {
        method,
        headers,
        ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
        ...(o.signal === undefined ? {} : { signal: o.signal }),
      }),
      (e): ClientError => ({ type: 'Unreachable', url: this.config.url, cause: causeOf(e) }),
    ).andThen((response) => (response.ok ? okAsync(response) : this.#failure(path, response)));
  }

  /** A JSON answer; `null` for a 404 when `missingIsNull` (a worker that is gone). */
  json<T>(
    method: string,
    path: string,
    o: RequestOptions = {},
  ): ResultAsync<JsonAnswer<T>, ClientError> {
    return this.request(method, path, o).andThen((response) =>
      ResultAsync.fromPromise(response.text(), (e): ClientError => ({
        type: 'Unreachable',
        url: this.config.url,
        cause: causeOf(e),
      })).andThen((text) => {
        try {
          return ok({
            status: response.status,
            body: JSON.parse(text) as T,
            headers: response.headers,
          });
        } catch {
          return err<never, ClientError>({
            type: 'BadResponse',
            url: this.config.url,
            message: `not JSON: ${text.slice(0, 200)}`,
          });
        }
      }),
    );
  }

  /** A worker's JSON, or `null` when the server knows no such worker (any more). */
  findWorker<T>(workerId: string, signal?: AbortSignal): ResultAsync<T | null, ClientError> {
    return this.json<T>('GET', `/v1/workers/${encodeURIComponent(workerId)}`, {
      ...(signal === undefined ? {} : { signal }),
    })
      .map((a): T | null => a.body)
      .orElse((e) => (e.type === 'WorkerNotFound' ? ok(null) : err(e)));
  }

  #failure(path: string, response: Response): ResultAsync<never, ClientError> {
    if (response.status === 401) {
      void response.body?.cancel();
      return errAsync({
        type: 'Unauthorized',
        url: this.config.url,
        tokenSource: this.config.tokenSource,
      });
    }
    return ResultAsync.fromSafePromise(response.text().catch(() => '')).andThen((text) => {
      const body = parseError(text, response);
      const workerId = workerOfPath(path);
      if (response.status === 404 && body.error === 'WorkerNotFound' && workerId !== undefined)
        return err<never, ClientError>({ type: 'WorkerNotFound', workerId });
      return err<never, ClientError>({ type: 'HttpError', status: response.status, body });
    });
  }
}

function parseError(text: string, response: Response): ErrorJson {
  try {
    const parsed = JSON.parse(text) as Partial<ErrorJson>;
    if (typeof parsed.error === 'string' && typeof parsed.message === 'string')
      return parsed as ErrorJson;
  } catch {
    // not the API's error JSON
  }
  return { error: response.statusText || 'Error', message: text.slice(0, 500) };
}
