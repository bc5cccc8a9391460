import type { ApiErrorBody } from './types';

/** What went wrong with a call: the HTTP status (0 when the server could not be reached). */
export interface ApiError {
  readonly status: number;
  readonly error: string;
  readonly message: string;
  readonly retryAfter?: string;
}

/** Expected failures are values, as the server's neverthrow Results are: no throw to catch. */
export type ApiResult<T> =
  | { readonly ok: true; readonly status: number; readonly value: T }
  | { readonly ok: false; readonly error: ApiError };

const SAFE_METHODS = new Set(['GET', 'HEAD']);

function isErrorBody(body: unknown): body is ApiErrorBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { error?: unknown }).error === 'string' &&
    typeof (body as { message?: unknown }).message === 'string'
  );
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * JSON calls to the server of this page, authenticated by the session cookie. The CSRF token
 * lives here, in memory only: a reload reads it again from `GET /v1/session`.
 */
export class ApiClient {
  private csrfToken: string | null = null;
  private readonly signedOutListeners = new Set<() => void>();

  setCsrfToken(token: string | null): void {
    this.csrfToken = token;
  }

  /** Called when an authenticated call answers 401: the session is over. */
  onSignedOut(listener: () => void): () => void {
    this.signedOutListeners.add(listener);
    return () => this.signedOutListeners.delete(listener);
  }

  /** The session is over (a 401, here or on a stream): the page goes back to the sign-in. */
  signedOut(): void {
    this.csrfToken = null;
    for (const listener of [...this.signedOutListeners]) listener();
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: { readonly quiet401?: boolean } = {},
  ): Promise<ApiResult<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (!SAFE_METHODS.has(method) && this.csrfToken !== null)
      headers['x-csrf-token'] = this.csrfToken;
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        credentials: 'same-origin',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      return {
        ok: false,
        error: { status: 0, error: 'NetworkError', message: (cause as Error).message },
      };
    }
    const parsed = await readBody(response);
    if (response.ok) return { ok: true, status: response.status, value: parsed as T };
    if (response.status === 401 && options.quiet401 !== true) this.signedOut();
    const retryAfter = response.headers.get('retry-after');
    return {
      ok: false,
      error: {
        status: response.status,
        error: isErrorBody(parsed) ? parsed.error : `HTTP ${response.status}`,
        message: isErrorBody(parsed) ? parsed.message : response.statusText,
        ...(retryAfter === null ? {} : { retryAfter }),
      },
    };
  }
}

/** `a=1&b=2` of the defined values only. */
export function queryString(params: Readonly<Record<string, string | number | undefined>>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') q.set(key, String(value));
  }
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
