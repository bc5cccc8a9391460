import { connect, createServer, type Server, type Socket } from 'node:net';
import { DEFAULT_DOCKER_SOCKET } from '../docker-connection.js';

/**
 * A TCP front for the engine's unix socket: a second "host" for tests of several engines
 * (the same engine under another address), recording the request lines that pass through.
 */
export interface EngineProxy {
  /** `tcp://127.0.0.1:<port>`, a DOCKER_HOST. */
  readonly dockerHost: string;
  /** `METHOD /path?query` of every request seen, in order. */
  requests(): readonly string[];
  close(): Promise<void>;
}

const REQUEST_LINE = /^([A-Z]+ \S+) HTTP\/1\.[01]$/;

export async function startEngineProxy(): Promise<EngineProxy> {
  const host = process.env['DOCKER_HOST'] ?? `unix://${DEFAULT_DOCKER_SOCKET}`;
  if (!host.startsWith('unix://')) {
    throw new Error("the engine proxy fronts the engine's unix socket; set DOCKER_HOST=unix://…");
  }
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(host.slice('unix://'.length));
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('latin1').split('\r\n')) {
        const match = REQUEST_LINE.exec(line);
        if (match?.[1] !== undefined) requests.push(match[1]);
      }
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    dockerHost: `tcp://127.0.0.1:${port}`,
    requests: () => [...requests],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
