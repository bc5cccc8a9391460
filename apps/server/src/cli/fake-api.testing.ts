import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CliDeps } from './cli-context.js';
import type { CliIo } from './cli-io.js';
import { runCli } from './program.js';

/** For the CLI's tests: an HTTP server that answers as each test scripts it. */

/** Answers a request; `n` counts the requests to this route, from 1. */
export type FakeRoute = (req: IncomingMessage, res: ServerResponse, n: number) => void;

export interface FakeApi {
  readonly url: string;
  /** Each request as `METHOD /path` (without the query) with its headers, in order. */
  readonly requests: { readonly route: string; readonly headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

/** Serves `routes` (`'GET /v1/workers/w1'`); any other request is answered 404. */
export async function startFakeApi(routes: Readonly<Record<string, FakeRoute>>): Promise<FakeApi> {
  const counts = new Map<string, number>();
  const requests: FakeApi['requests'] = [];
  const server = createServer((req, res) => {
    const route = `${req.method ?? 'GET'} ${(req.url ?? '/').split('?')[0] ?? '/'}`;
    requests.push({ route, headers: req.headers });
    const n = (counts.get(route) ?? 0) + 1;
    counts.set(route, n);
    const handler = routes[route];
    if (handler === undefined) sendJson(res, 404, { error: 'NotFound', message: route });
    else handler(req, res, n);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Starts an event stream; `frames` are written as they are (`retry: 10\n\n`, `id: …`). */
export function openStream(res: ServerResponse, ...frames: string[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const f of frames) res.write(f);
}

/** An SSE message of a CloudEvent, with its id as the resume cursor. */
export const eventFrame = (e: { readonly id: string }): string =>
  `id: ${e.id}\ndata: ${JSON.stringify(e)}\n\n`;

export const cloudEvent = (id: string, type: string, subject: string, data = {}) => ({
  specversion: '1.0',
  id,
  type: `io.hodei.lifecycle.${type}`,
  source: 'hodei',
  subject,
  time: '2026-12-01T00:00:00.000Z',
  datacontenttype: 'application/json',
  data,
});

export const workerJson = (id: string, state: string, exitCode: number | null = null) => ({
  id,
  providerId: 'fake',
  mode: 'job',
  state,
  resourceId: `res-${id}`,
  image: 'alpine:3',
  createdAt: '2026-12-01T00:00:00.000Z',
  readyAt: state === 'creating' ? null : '2026-12-01T00:00:01.000Z',
  terminatedAt: exitCode === null ? null : '2026-12-01T00:00:02.000Z',
  exitCode,
  terminationReason: exitCode === null ? null : 'Completed',
  policy: {},
});

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const noDeps: CliDeps = {
  serve: () => Promise.resolve(99),
  dockerHello: () => Promise.resolve(99),
  doctor: () => Promise.resolve(99),
};

/** `hodei args…` in this process with a token set, no colour, and what it wrote. */
export async function cliRun(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    env: { HODEI_API_TOKEN: 'fake-token-0000000000' },
    stdoutColour: false,
    stderrColour: false,
  };
  const code = await runCli(args, io, noDeps);
  return { code, stdout, stderr };
}
