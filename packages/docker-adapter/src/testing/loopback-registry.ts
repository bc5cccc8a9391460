import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';

/**
 * A stand-in registry on 127.0.0.1 for pull tests, so nothing leaves the machine: `refusing`
 * answers like a registry without the image (MANIFEST_UNKNOWN), `silent` accepts connections
 * and never answers (a black hole), `private` asks for HTTP Basic credentials first (401 with
 * a challenge) and then answers like `refusing`. It counts the connections the daemon opened
 * and keeps the Authorization headers it was sent.
 */
export interface LoopbackRegistry {
  /** `127.0.0.1:<port>`, the registry part of an image reference. */
  readonly host: string;
  connections(): number;
  /** Every Authorization header received, in order. */
  authorizations(): readonly string[];
  close(): Promise<void>;
}

export async function startLoopbackRegistry(
  behaviour: 'refusing' | 'silent' | 'private',
): Promise<LoopbackRegistry> {
  const authorizations: string[] = [];
  const server: Server =
    behaviour === 'silent'
      ? createServer(() => undefined)
      : createHttpServer((request, response) => {
          const authorization = request.headers.authorization;
          if (authorization !== undefined) authorizations.push(authorization);
          response.setHeader('docker-distribution-api-version', 'registry/2.0');
          response.setHeader('content-type', 'application/json');
          if (behaviour === 'private' && authorization === undefined) {
            response.statusCode = 401;
            response.setHeader('www-authenticate', 'Basic realm="loopback"');
            response.end(
              JSON.stringify({
                errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
              }),
            );
            return;
          }
          if (request.url === '/v2/') {
            response.end('{}');
            return;
          }
          response.statusCode = 404;
          response.end(
            JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }),
          );
        });
  const sockets = new Set<Socket>();
  let count = 0;
  server.on('connection', (socket: Socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = address !== null && typeof address === 'object' ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    connections: () => count,
    authorizations: () => [...authorizations],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
