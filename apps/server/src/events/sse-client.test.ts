import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SseClient } from './sse-client.js';

/** A response that records each write and says the socket is full once `full` is set. */
function fakeResponse() {
  const writes: string[] = [];
  const state = { full: false, destroyed: false, writableEnded: false };
  const emitter = new EventEmitter();
  const response = Object.assign(emitter, {
    get destroyed() {
      return state.destroyed;
    },
    get writableEnded() {
      return state.writableEnded;
    },
    write(chunk: string | Buffer) {
      writes.push(chunk.toString());
      return !state.full;
    },
    destroy() {
      state.destroyed = true;
    },
  });
  return { response: response as unknown as ServerResponse, writes, state };
}

const tick = () => new Promise<void>((r) => queueMicrotask(r));

describe('an SSE client', () => {
  it('writes the live frames of one run as one chunk, in order', async () => {
    const { response, writes } = fakeResponse();
    const client = new SseClient(response, { maxQueuedFrames: 10 });
    client.send(Buffer.from('a'));
    client.send('b');
    client.send(Buffer.from('c'));
    expect(writes).toEqual([]);
    await tick();
    expect(writes).toEqual(['abc']);
  });

  it('writes pending live frames before a page or a heartbeat', () => {
    const { response, writes } = fakeResponse();
    const client = new SseClient(response, { maxQueuedFrames: 10 });
    client.send('a');
    client.writePage(['b', 'c']);
    client.sendIfIdle('h');
    expect(writes).toEqual(['a', 'bc', 'h']);
  });

  it('queues behind a full socket, sends the queue on drain, and drops a client that overflows it', async () => {
    const { response, writes, state } = fakeResponse();
    let dropped = -1;
    const client = new SseClient(response, {
      maxQueuedFrames: 2,
      onDropped: (queued) => (dropped = queued),
    });
    state.full = true;
    client.send('a');
    await tick();
    client.send('b');
    state.full = false;
    response.emit('drain');
    expect(writes).toEqual(['a', 'b']);
    state.full = true;
    client.send('c');
    await tick();
    for (const f of ['d', 'e', 'f']) client.send(f);
    expect(state.destroyed).toBe(true);
    expect(dropped).toBe(3);
  });
});
