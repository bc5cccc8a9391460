import { connect, type Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A TCP connection to a server, for what `fetch` will not send or will not show. */
export interface RawConnection {
  readonly socket: Socket;
  write(text: string): void;
  /** Resolves with the first complete response received on the connection. */
  response(): Promise<RawResponse>;
  /** Resolves once the server has ended or closed the connection. */
  readonly ended: Promise<void>;
  /** Everything received so far. */
  received(): string;
  close(): void;
}

/** Parses one HTTP/1.1 response at the start of `text`, if it is complete. */
export function parseResponse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = text.slice(end + 4, end + 4 + length);
  if (Buffer.byteLength(body) < length) return undefined;
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/** Opens a connection to the server at `url` (`http://host:port`). */
export async function openRawConnection(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  const waiting = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    for (const wake of waiting) wake();
  });
  let closed = false;
  const ended = new Promise<void>((resolve) => {
    const done = () => {
      closed = true;
      resolve();
      for (const wake of waiting) wake();
    };
    socket.once('end', done);
    socket.once('close', done);
    // A reset after the response is a way of closing too.
    socket.on('error', done);
  });
  return {
    socket,
    write: (text) => {
      socket.write(text, 'latin1');
    },
    response: () =>
      new Promise<RawResponse>((resolve, reject) => {
        const check = () => {
          const parsed = parseResponse(received);
          if (parsed !== undefined) {
            waiting.delete(check);
            resolve(parsed);
          } else if (closed) {
            waiting.delete(check);
            reject(
              new Error(`closed without a complete response; received ${received.length} bytes`),
            );
          }
        };
        waiting.add(check);
        check();
      }),
    ended,
    received: () => received,
    close: () => socket.destroy(),
  };
}

/** One request on a connection of its own; resolves with the response. */
export async function rawRequest(url: string, text: string): Promise<RawResponse> {
  const connection = await openRawConnection(url);
  try {
    connection.write(text);
    return await connection.response();
  } finally {
    connection.close();
  }
}
