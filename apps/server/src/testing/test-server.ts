import { parseConfig, formatConfigProblems } from '../config/config.js';
import {
  createServer,
  type HodeiServer,
  type ServerOptions,
} from '../composition/create-server.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export interface ApiOptions {
  readonly body?: unknown;
  /** `null`: no Authorization header; default the test token. */
  readonly token?: string | null;
  readonly headers?: Record<string, string>;
  /** A body sent as it is. */
  readonly raw?: string;
}

export interface ApiResponse {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies vary per route
  readonly body: any;
  readonly headers: Headers;
}

export type Api = (method: string, path: string, options?: ApiOptions) => Promise<ApiResponse>;

/** JSON calls to a server at `url`, with the test token unless told otherwise. */
export function apiClient(url: string): Api {
  return async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? TEST_TOKEN : o.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    let body: string | undefined = o.raw;
    if (o.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.body);
    }
    const response = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // plain text
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };
}

export interface TestServer {
  readonly server: HodeiServer;
  readonly url: string;
  readonly api: Api;
  stop(): Promise<void>;
}

/**
 * A server in this process on a free port, configured as from the environment `env` (on top
 * of quiet defaults: the Kubernetes stub, the live stream only, logs discarded).
 */
export async function startTestServer(
  env: Record<string, string | undefined> = {},
  options: ServerOptions = {},
): Promise<TestServer> {
  const config = parseConfig({
    HODEI_HTTP_PORT: '0',
    HODEI_API_TOKEN: TEST_TOKEN,
    HODEI_PROVIDERS: 'k8s-stub',
    HODEI_EVENT_PUBLISHER: 'logger',
    HODEI_LOG_LEVEL: 'silent',
    ...env,
  });
  if (config.isErr()) throw new Error(formatConfigProblems(config.error));
  const server = await createServer(config.value, {
    logDestination: '/dev/null',
    heartbeatMs: 500,
    clusterTickMs: 50,
    ...options,
  });
  if (server.isErr()) throw new Error(server.error.message);
  const s = server.value;
  return {
    server: s,
    url: s.url,
    api: apiClient(s.url),
    stop: () => s.stop(),
  };
}

/** Polls `read` until `done` holds or `timeoutMs` passes; returns the last value. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}
