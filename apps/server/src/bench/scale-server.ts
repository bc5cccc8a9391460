/**
 * The server under the scale bench: `hodei serve` in a child process on the simulated
 * Kubernetes provider, with its inspector open so the bench can force a GC in it and read
 * its heap, and small HTTP helpers that give up after a time limit instead of hanging.
 */
import { existsSync } from 'node:fs';
import { spawnServer, tempDataDir, type ServerProcess } from '../testing/server-process.js';
import { TEST_TOKEN } from '../testing/test-server.js';

export interface Answer {
  readonly status: number;
  readonly text: string;
  readonly ms: number;
}

export interface ScaleServer {
  readonly process: ServerProcess;
  readonly url: string;
  /** `undefined` once the time limit passed (status 0: the request failed). */
  request(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
  ): Promise<Answer | undefined>;
  /** One gauge or counter of `/metrics` (the first sample of that name), or `undefined`. */
  metric(name: string, timeoutMs?: number): Promise<number | undefined>;
  /** Heap used after a forced GC, over the inspector; `undefined` if it cannot be read. */
  heapUsed(timeoutMs: number): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** Resolves with the value, or `undefined` once `ms` passed. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

export async function startScaleServer(env: Record<string, string>): Promise<ScaleServer> {
  if (!existsSync(new URL('../../dist/cli.js', import.meta.url))) {
    throw new Error('no dist/cli.js: build the server first (npx tsc -p tsconfig.build.json)');
  }
  const server = await spawnServer({
    HODEI_DATA_DIR: await tempDataDir(),
    // The child runs without --expose-gc: its inspector forces the GC instead.
    NODE_OPTIONS: '--inspect=127.0.0.1:0',
    ...env,
  });
  const inspectorUrl = /Debugger listening on (ws:\/\/\S+)/.exec(server.stderr())?.[1];
  const inspector =
    inspectorUrl === undefined ? undefined : await InspectorClient.connect(inspectorUrl);
  const request = async (method: string, path: string, body: unknown, timeoutMs: number) => {
    const start = performance.now();
    try {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TEST_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs))),
      });
      const text = await response.text();
      return { status: response.status, text, ms: performance.now() - start };
    } catch (cause) {
      if ((cause as Error).name === 'TimeoutError') return undefined;
      return { status: 0, text: (cause as Error).message, ms: performance.now() - start };
    }
  };
  return {
    process: server,
    url: server.url,
    request,
    metric: async (name, timeoutMs = 10_000) => {
      const answer = await request('GET', '/metrics', undefined, timeoutMs);
      const line = answer?.text
        .split('\n')
        .find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    },
    heapUsed: async (timeoutMs) => {
      if (inspector === undefined) return undefined;
      const read = async () => {
        // Twice: the first collection can leave garbage that finalizers freed for the second.
        await inspector.call('HeapProfiler.collectGarbage');
        await inspector.call('HeapProfiler.collectGarbage');
        const usage = (await inspector.call('Runtime.getHeapUsage')) as { usedSize?: number };
        return usage.usedSize;
      };
      return within(read(), timeoutMs);
    },
    stop: async () => {
      inspector?.close();
      const exited = await within(server.stop(), 15_000);
      if (exited === undefined) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    },
  };
}

interface InspectorReply {
  readonly id?: number;
  readonly result?: unknown;
  readonly error?: { readonly message: string };
}

/**
 * The Chrome DevTools protocol over the WebSocket Node's inspector serves. Node 20 has a
 * WebSocket client behind `--experimental-websocket` (the bench's script passes it).
 */
class InspectorClient {
  #next = 0;
  readonly #waiting = new Map<number, (reply: InspectorReply) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.onmessage = (event) => {
      const reply = JSON.parse(String(event.data)) as InspectorReply;
      if (reply.id === undefined) return;
      this.#waiting.get(reply.id)?.(reply);
      this.#waiting.delete(reply.id);
    };
  }

  static async connect(url: string): Promise<InspectorClient | undefined> {
    const Socket = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (Socket === undefined) return undefined;
    const socket = new Socket(url);
    const opened = await within(
      new Promise<boolean>((resolve) => {
        socket.onopen = () => resolve(true);
        socket.onerror = () => resolve(false);
      }),
      5_000,
    );
    if (opened !== true) {
      socket.close();
      return undefined;
    }
    return new InspectorClient(socket);
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (reply) =>
        reply.error === undefined ? resolve(reply.result) : reject(new Error(reply.error.message)),
      );
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.close();
  }
}
