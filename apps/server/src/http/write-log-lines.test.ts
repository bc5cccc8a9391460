import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { LogLine } from '@hodei/domain';
import { afterEach, describe, expect, it } from 'vitest';
import { writeLogLines } from './write-log-lines.js';

const LINES = 200_000;
const LINE = 'x'.repeat(99);

let server: Server | undefined;
let client: Socket | undefined;

afterEach(async () => {
  client?.destroy();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
});

/** A server writing LINES lines with writeLogLines, counting how many it has read so far. */
async function serveLog(): Promise<{ read: () => number; port: number; done: Promise<unknown> }> {
  let read = 0;
  let finish: (value: unknown) => void = () => undefined;
  const done = new Promise((resolve) => (finish = resolve));
  async function* source(): AsyncGenerator<LogLine> {
    for (let i = 0; i < LINES; i += 1) {
      if (i % 1000 === 0) await Promise.resolve();
      read += 1;
      yield { stream: 'stdout', line: LINE };
    }
  }
  server = createServer((_, response) => {
    const gone = new AbortController();
    response.on('close', () => gone.abort());
    response.writeHead(200, { 'content-type': 'text/plain' });
    writeLogLines(response, source(), gone.signal).then(finish, finish);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    read: () => read,
    port: typeof address === 'object' && address ? address.port : 0,
    done,
  };
}

/** Waits until `read` stops moving for a while. */
async function settled(read: () => number): Promise<number> {
  let last = -1;
  while (read() !== last) {
    last = read();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return last;
}

describe('writeLogLines', () => {
  it('stops reading the log while the client does not read, and goes on when it does', async () => {
    const log = await serveLog();
    client = connect(log.port, '127.0.0.1');
    client.pause();
    client.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    const stalled = await settled(log.read);
    expect(stalled).toBeGreaterThan(0);
    expect(stalled).toBeLessThan(LINES);
    let bytes = 0;
    client.on('data', (chunk: Buffer) => (bytes += chunk.length));
    client.resume();
    await log.done;
    expect(log.read()).toBe(LINES);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bytes).toBeGreaterThan(LINES * (LINE.length + 1));
  });

  it('ends with an abort when the client goes away while it waits for the socket', async () => {
    const log = await serveLog();
    client = connect(log.port, '127.0.0.1');
    client.pause();
    client.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await settled(log.read);
    client.destroy();
    await expect(log.done).resolves.toMatchObject({ name: 'AbortError' });
    expect(log.read()).toBeLessThan(LINES);
  });
});
