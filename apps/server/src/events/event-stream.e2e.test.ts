import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { LifecycleEvent } from '@hodei/domain';
import type { PostgresEventBus } from '@hodei/postgres-event-bus';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKENS } from '../composition/tokens.js';
import { createTestDatabase, tempDataDir, type TestDatabase } from '../testing/server-process.js';
import {
  eventually,
  startTestServer,
  TEST_TOKEN,
  type TestServer,
} from '../testing/test-server.js';

/**
 * The bounds of `GET /v1/events` over real HTTP, on a server in this process whose event
 * store is a PostgreSQL database of this file's own: capped catch-ups, SQL filters, slow
 * clients dropped, concurrent catch-ups refused; and what a browser's EventSource gets.
 */

interface Frame {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/** The complete frames in `text` that carry data; the rest is returned to be read on. */
function parseFrames(text: string): { frames: Frame[]; rest: string } {
  const frames: Frame[] = [];
  let rest = text;
  let end: number;
  while ((end = rest.indexOf('\n\n')) !== -1) {
    const fields: Record<string, string> = {};
    for (const line of rest.slice(0, end).split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trimStart();
    }
    rest = rest.slice(end + 2);
    if (fields['data'] !== undefined)
      frames.push({ id: fields['id'], event: fields['event'], data: fields['data'] });
  }
  return { frames, rest };
}

/** An SSE stream read frame by frame; `until` is checked after each chunk. */
async function readSse(
  url: string,
  headers: Record<string, string>,
  until: (frames: Frame[]) => boolean,
  onOpen: () => void = () => undefined,
): Promise<Frame[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 30_000);
  const frames: Frame[] = [];
  try {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${TEST_TOKEN}`, ...headers },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    onOpen();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      const parsed = parseFrames(buffer + decoder.decode(chunk, { stream: true }));
      frames.push(...parsed.frames);
      buffer = parsed.rest;
      if (until(frames)) break;
    }
  } catch (cause) {
    if ((cause as Error).name !== 'AbortError') throw cause;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return frames;
}

/** A client that sends its request, takes the first bytes of the answer, then stops reading. */
interface StalledClient {
  readonly socket: Socket;
  /** Reads on to the end of the connection; what it got, and whether the server ended it. */
  readToEnd(timeoutMs: number): Promise<{ frames: Frame[]; ended: boolean }>;
}

async function stalledClient(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<StalledClient> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  const lines = Object.entries({ authorization: `Bearer ${TEST_TOKEN}`, ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`GET ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n${lines}\r\n`);
  await new Promise((resolve) => socket.once('data', resolve));
  socket.pause();
  return {
    socket,
    readToEnd: (timeoutMs) =>
      new Promise((resolve) => {
        const done = (ended: boolean) => {
          clearTimeout(timer);
          socket.destroy();
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ frames: parseFrames(body.slice(body.indexOf('\r\n\r\n') + 4)).frames, ended });
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        socket.once('end', () => done(true));
        socket.once('close', () => done(true));
        socket.resume();
      }),
  };
}

const at = '2025-04-01T10:00:00.000Z';
const meta = (workerId: string) => ({
  eventId: randomUUID(),
  occurredAt: at,
  providerId: 'k8s-stub',
  workerId,
});
const ready = (workerId: string): LifecycleEvent => ({
  ...meta(workerId),
  type: 'WorkerEphemeralReady',
});
const busy = (workerId: string): LifecycleEvent => ({
  ...meta(workerId),
  type: 'WorkerEphemeralBusy',
});
/** An event of about 4 KB, to fill socket buffers with few events. */
const failed = (workerId: string, n: number): LifecycleEvent => ({
  ...meta(workerId),
  type: 'WorkerEphemeralFailed',
  error: `${n} `.padEnd(4096, 'x'),
});

/** Polls `done` every millisecond until it holds; fails after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const storeOf = (t: TestServer): PostgresEventBus => {
  const bus = t.server.container.resolve(TOKENS.eventBus);
  if (bus === undefined) throw new Error('the test server has no event store');
  return bus;
};
const append = async (t: TestServer, events: readonly LifecycleEvent[]): Promise<void> => {
  for (let i = 0; i < events.length; i += 500) {
    (await storeOf(t).store.appendBatch(events.slice(i, i + 500)))._unsafeUnwrap();
  }
};
const publishLive = async (t: TestServer, event: LifecycleEvent): Promise<void> => {
  (await t.server.container.resolve(TOKENS.publisher).publish(event))._unsafeUnwrap();
};

/** A server in this process whose event store is a PostgreSQL database of its own. */
async function startWithStore(
  env: Record<string, string>,
): Promise<{ db: TestDatabase; t: TestServer }> {
  const db = await createTestDatabase();
  const t = await startTestServer({
    DATABASE_URL: db.url,
    HODEI_EVENT_PUBLISHER: 'postgres',
    HODEI_DATA_DIR: await tempDataDir(),
    ...env,
  });
  return { db, t };
}

async function stopWithStore(t: TestServer | undefined, db: TestDatabase | undefined) {
  await t?.stop();
  await db?.drop();
}

describe('GET /v1/events under careless clients', () => {
  let db: TestDatabase;
  let t: TestServer;

  beforeAll(async () => {
    ({ db, t } = await startWithStore({
      HODEI_SSE_CATCHUP_MAX_EVENTS: '50',
      HODEI_SSE_CLIENT_QUEUE_EVENTS: '50',
    }));
  });

  afterAll(() => stopWithStore(t, db));

  it('ends a catch-up past its cap with reset, then delivers live events, and resumes from the reset', async () => {
    const missed = Array.from({ length: 120 }, (_, i) => ready(`cap-${i}`));
    await append(t, missed);
    const live = ready('cap-live');
    let published = false;
    const frames = await readSse(
      `${t.url}/v1/events`,
      { 'last-event-id': missed[0]!.eventId },
      (f) => {
        // Live events held during a catch-up that ends in reset are dropped: send it after.
        if (!published && f.some((x) => x.event === 'reset')) {
          published = true;
          void publishLive(t, live);
        }
        return f.some((x) => x.id === live.eventId);
      },
    );
    const reset = frames.findIndex((f) => f.event === 'reset');
    expect(frames.slice(0, reset).map((f) => f.id)).toEqual(
      missed.slice(1, 51).map((e) => e.eventId),
    );
    expect(JSON.parse(frames[reset]!.data)).toMatchObject({ reason: 'catch-up-limit' });
    expect(frames.slice(reset + 1).map((f) => f.id)).toEqual([live.eventId]);

    // The reset's id resumes after everything there was when it was sent.
    const next = ready('cap-next');
    await publishLive(t, next);
    const resumed = await readSse(
      `${t.url}/v1/events`,
      { 'last-event-id': frames[reset]!.id! },
      (f) => f.some((x) => x.id === next.eventId),
    );
    expect(resumed.map((f) => f.id)).toEqual([live.eventId, next.eventId]);
  });

  it('catches up only the events matching workerId and type, each once, then goes live', async () => {
    const events = [
      ready('f-a'),
      busy('f-a'),
      busy('f-b'),
      ready('f-b'),
      busy('f-a'),
      ready('f-a'),
    ];
    await append(t, events);
    const marker = busy('f-a');
    const frames = await readSse(
      `${t.url}/v1/events?workerId=f-a&type=WorkerEphemeralBusy`,
      { 'last-event-id': events[0]!.eventId },
      (f) => f.some((x) => x.id === marker.eventId),
      () => void publishLive(t, marker),
    );
    expect(frames.map((f) => f.id)).toEqual([
      events[1]!.eventId,
      events[4]!.eventId,
      marker.eventId,
    ]);
    expect(frames.map((f) => JSON.parse(f.data) as { subject: string; type: string })).toEqual(
      Array.from({ length: 3 }, () =>
        expect.objectContaining({ subject: 'f-a', type: 'io.hodei.lifecycle.WorkerEphemeralBusy' }),
      ),
    );
  });

  it('drops a client that stops reading while the others keep receiving every event', async () => {
    const stalled = await stalledClient(t.url, '/v1/events?workerId=slow', {});
    // Several times what the sockets between the stalled client and the server can buffer.
    const total = 6_000;
    const last = failed('slow', total);
    let open = false;
    let fastCount = 0;
    const fast = readSse(
      `${t.url}/v1/events?workerId=slow`,
      {},
      (f) => {
        fastCount = f.length;
        return f.some((x) => x.id === last.eventId);
      },
      () => (open = true),
    );
    await until(() => open);
    // Paced by the reading client, so that only the stalled one falls behind.
    for (let i = 1; i < total; i += 10) {
      for (let j = i; j < Math.min(i + 10, total); j += 1)
        void t.server.live.publish(failed('slow', j));
      await until(() => fastCount >= i - 20);
    }
    void t.server.live.publish(last);
    const received = await fast;
    expect(received).toHaveLength(total);
    const slow = await stalled.readToEnd(10_000);
    expect(slow.ended).toBe(true);
    expect(slow.frames.length).toBeLessThan(total);
  });
});

describe('GET /v1/events with its concurrent catch-ups bounded', () => {
  let db: TestDatabase;
  let t: TestServer;

  beforeAll(async () => {
    ({ db, t } = await startWithStore({
      HODEI_SSE_MAX_CATCHUPS: '1',
    }));
  });

  afterAll(() => stopWithStore(t, db));

  it('answers 503 with Retry-After to a catch-up over the bound, and serves it once one ends', async () => {
    // More than the sockets between a client and the server buffer: a stalled reader's catch-up
    // waits on it, holding its slot.
    const events = Array.from({ length: 5_000 }, (_, i) => failed('bound', i));
    await append(t, events);
    const resume = { 'last-event-id': events[0]!.eventId };
    const stalled = await stalledClient(t.url, '/v1/events', resume);

    const refused = await fetch(`${t.url}/v1/events`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}`, ...resume },
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toEqual({
      error: 'TooManyCatchUps',
      message: expect.stringContaining('HODEI_SSE_MAX_CATCHUPS') as unknown,
    });
    // Without Last-Event-ID there is nothing to catch up: live streams are not bounded by it.
    const marker = ready('bound-live');
    const live = await readSse(
      `${t.url}/v1/events`,
      {},
      (f) => f.length > 0,
      () => void publishLive(t, marker),
    );
    expect(live.map((f) => f.id)).toEqual([marker.eventId]);

    stalled.socket.destroy();
    const after = await eventually(
      () =>
        fetch(`${t.url}/v1/events?workerId=bound-live`, {
          headers: { authorization: `Bearer ${TEST_TOKEN}`, ...resume },
        }).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        }),
      (status) => status === 200,
      10_000,
    );
    expect(after).toBe(200);
  });
});

describe('GET /v1/events with a catch-up whose reader stopped', () => {
  let db: TestDatabase;
  let t: TestServer;

  beforeAll(async () => {
    ({ db, t } = await startWithStore({
      HODEI_SSE_MAX_CATCHUPS: '1',
      HODEI_SSE_CATCHUP_STALL_SECONDS: '1',
    }));
  });

  afterAll(() => stopWithStore(t, db));

  it('drops the stalled reader and gives its catch-up slot to the next resume', async () => {
    const events = Array.from({ length: 5_000 }, (_, i) => failed('stall', i));
    await append(t, events);
    const resume = { 'last-event-id': events[0]!.eventId };
    const stalled = await stalledClient(t.url, '/v1/events', resume);
    // Its socket stays open on this side: only the server's stall deadline can free the slot.
    const status = await eventually(
      () =>
        fetch(`${t.url}/v1/events?workerId=nobody`, {
          headers: { authorization: `Bearer ${TEST_TOKEN}`, ...resume },
        }).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        }),
      (s) => s === 200,
      15_000,
    );
    expect(status).toBe(200);
    const dropped = await stalled.readToEnd(10_000);
    expect(dropped.ended).toBe(true);
    expect(dropped.frames.length).toBeLessThan(events.length);
  });
});

/** What a browser's EventSource gets: `onmessage` for unnamed events, listeners for named ones. */
interface EventSourceView {
  readonly status: number;
  readonly onmessage: EventSourceMessage[];
  readonly named: EventSourceMessage[];
}

/** A stream read as an EventSource does (eventsource-parser), until `until` holds. */
async function eventSource(
  url: string,
  headers: Record<string, string>,
  until: (view: EventSourceView) => boolean,
  onOpen: () => void = () => undefined,
): Promise<EventSourceView> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 30_000);
  const onmessage: EventSourceMessage[] = [];
  const named: EventSourceMessage[] = [];
  let status = 0;
  const parser = createParser({
    onEvent: (e) => ((e.event ?? 'message') === 'message' ? onmessage : named).push(e),
  });
  try {
    const response = await fetch(url, { headers, signal: controller.signal });
    status = response.status;
    if (status !== 200) {
      await response.body?.cancel();
      return { status, onmessage, named };
    }
    onOpen();
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (until({ status, onmessage, named })) break;
    }
  } catch (cause) {
    if ((cause as Error).name !== 'AbortError') throw cause;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { status, onmessage, named };
}

const bearer = { authorization: `Bearer ${TEST_TOKEN}` };
const typesOf = (messages: readonly EventSourceMessage[]): string[] =>
  messages.map((m) => (JSON.parse(m.data) as { type: string }).type);
const gcPass = (providerId: string, workersCleaned: number): LifecycleEvent => ({
  eventId: randomUUID(),
  occurredAt: at,
  providerId,
  type: 'GarbageCollectionCompleted',
  workersCleaned,
  orphansDetected: 0,
  errors: 0,
  durationMs: 1,
  lifetimeExceeded: 0,
  idleTimedOut: 0,
  startupTimedOut: 0,
  forceTerminated: 0,
  ttlExpired: workersCleaned,
  expiryWarnings: 0,
});

describe('GET /v1/events from a browser', () => {
  let db: TestDatabase;
  let t: TestServer;

  beforeAll(async () => {
    ({ db, t } = await startWithStore({}));
  });

  afterAll(() => stopWithStore(t, db));

  it('gives a plain EventSource every event in onmessage, live and on resume, each a CloudEvent', async () => {
    const missed = [ready('es-a'), busy('es-a')];
    const first = ready('es-first');
    await append(t, [first, ...missed]);
    const marker = ready('es-a');
    const view = await eventSource(
      `${t.url}/v1/events?workerId=es-a`,
      { ...bearer, 'last-event-id': first.eventId },
      (v) => v.onmessage.some((m) => m.id === marker.eventId),
      () => void publishLive(t, marker),
    );
    expect(view.named).toEqual([]);
    expect(view.onmessage.map((m) => m.id)).toEqual([...missed, marker].map((e) => e.eventId));
    expect(typesOf(view.onmessage)).toEqual([
      'io.hodei.lifecycle.WorkerEphemeralReady',
      'io.hodei.lifecycle.WorkerEphemeralBusy',
      'io.hodei.lifecycle.WorkerEphemeralReady',
    ]);
  });

  it('filters on a list of types in either spelling, live and in the catch-up', async () => {
    const events = [ready('ty-a'), busy('ty-a'), failed('ty-a', 1), ready('ty-a')];
    await append(t, events);
    const marker = failed('ty-a', 2);
    const type = 'WorkerEphemeralBusy,io.hodei.lifecycle.WorkerEphemeralFailed';
    const view = await eventSource(
      `${t.url}/v1/events?workerId=ty-a&type=${encodeURIComponent(type)}`,
      { ...bearer, 'last-event-id': events[0]!.eventId },
      (v) => v.onmessage.some((m) => m.id === marker.eventId),
      () => void publishLive(t, marker),
    );
    expect(view.onmessage.map((m) => m.id)).toEqual(
      [events[1]!, events[2]!, marker].map((e) => e.eventId),
    );
  });

  it('answers 400 naming a type that does not exist', async () => {
    const response = await fetch(`${t.url}/v1/events?type=WorkerEphemeralReady,WorkerCreated`, {
      headers: bearer,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'ValidationFailed',
      message: expect.stringContaining('"WorkerCreated"') as unknown,
    });
  });

  it('leaves GC pass reports out unless heartbeats=true or the type names them', async () => {
    const provider = `gc-${randomUUID().slice(0, 8)}`;
    const stored = [ready('gc-w'), gcPass(provider, 0), gcPass(provider, 1)];
    await append(t, stored);
    const from = { ...bearer, 'last-event-id': stored[0]!.eventId };
    // Each read ends at a marker of its own, published live after a GC pass.
    const read = async (query: string) => {
      const marker = ready('gc-w');
      return eventSource(
        `${t.url}/v1/events${query}`,
        from,
        (v) => v.onmessage.some((m) => m.id === marker.eventId),
        () => void publishLive(t, gcPass(provider, 0)).then(() => publishLive(t, marker)),
      );
    };
    const isGc = (m: EventSourceMessage) =>
      typesOf([m])[0] === 'io.hodei.lifecycle.GarbageCollectionCompleted';
    expect((await read('')).onmessage.filter(isGc)).toEqual([]);
    const gcIds = (await read('?heartbeats=true')).onmessage.filter(isGc).map((m) => m.id);
    // The two stored, the one published live during the first read, and this read's own.
    expect(gcIds).toHaveLength(4);
    expect(gcIds.slice(0, 2)).toEqual([stored[1]!.eventId, stored[2]!.eventId]);
    const byType = await eventSource(
      `${t.url}/v1/events?type=GarbageCollectionCompleted`,
      from,
      (v) => v.onmessage.length >= 2,
    );
    expect(byType.onmessage.slice(0, 2).map((m) => m.id)).toEqual(
      [stored[1]!, stored[2]!].map((e) => e.eventId),
    );
  });

  it('resumes a new EventSource from ?lastEventId= (a browser cannot set the header)', async () => {
    const first = ready('es-q');
    const missed = [busy('es-q'), ready('es-q')];
    await append(t, [first, ...missed]);
    const issued = await t.api('POST', '/v1/events/tickets');
    const { ticket } = issued.body as { ticket: string };
    const view = await eventSource(
      `${t.url}/v1/events?workerId=es-q&ticket=${encodeURIComponent(ticket)}&lastEventId=${first.eventId}`,
      {},
      (v) => v.onmessage.length >= missed.length,
      () => undefined,
    );
    expect(view.onmessage.map((m) => m.id)).toEqual(missed.map((e) => e.eventId));
  });

  it('opens the stream with a ticket instead of the bearer header, and nothing else with it', async () => {
    const issued = await t.api('POST', '/v1/events/tickets');
    expect(issued.status).toBe(201);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    const { ticket, expiresAt } = issued.body as { ticket: string; expiresAt: string };
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    const marker = ready('ticket-w');
    const url = `${t.url}/v1/events?workerId=ticket-w&ticket=${encodeURIComponent(ticket)}`;
    const view = await eventSource(
      url,
      {},
      (v) => v.onmessage.length > 0,
      () => void publishLive(t, marker),
    );
    expect(view.status).toBe(200);
    expect(view.onmessage.map((m) => m.id)).toEqual([marker.eventId]);
    // An EventSource reconnecting with it while it is valid.
    const again = await eventSource(
      url,
      {},
      () => true,
      () => void publishLive(t, ready('ticket-w')),
    );
    expect(again.status).toBe(200);
    const q = `ticket=${encodeURIComponent(ticket)}`;
    expect((await t.api('GET', `/v1/workers?${q}`, { token: null })).status).toBe(401);
    expect((await t.api('POST', `/v1/events/tickets?${q}`, { token: null })).status).toBe(401);
    expect((await t.api('GET', '/v1/events?ticket=not-a-ticket', { token: null })).status).toBe(
      401,
    );
    expect((await t.api('POST', '/v1/events/tickets', { token: null })).status).toBe(401);
  });
});
