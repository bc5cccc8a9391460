import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { LifecycleEvent } from '@hodei/domain';
import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_STREAM_LIMITS } from '../config/event-stream-limits.js';
import type { CatchUpEnd, CatchUpItem, CatchUpSource } from './catch-up-source.js';
import { EventStreamSession } from './event-stream-session.js';
import { LiveEventStream } from './live-event-stream.js';
import { sseFrame } from './sse-frames.js';

const ready = (n: number): LifecycleEvent => ({
  eventId: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  type: 'WorkerEphemeralReady',
  occurredAt: '2025-04-01T10:00:00.000Z',
  providerId: 'p',
  workerId: `w-${n}`,
});

/** A response that takes every write at once and keeps what it was given. */
function recordingResponse(): { response: ServerResponse; ids: () => string[] } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const ids = () => [...text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!);
  return { response: sink as unknown as ServerResponse, ids };
}

/** A store that holds `stored`, and runs `afterPage` once the session pulls past the page. */
function sourceOf(stored: readonly LifecycleEvent[], afterPage: () => void): CatchUpSource {
  return {
    async *pages(): AsyncGenerator<readonly CatchUpItem[], CatchUpEnd, void> {
      await Promise.resolve();
      yield stored.map((e) => ({ eventId: e.eventId, frame: sseFrame(e) }));
      afterPage();
      return { kind: 'complete' };
    },
    resumePoint: () => Promise.resolve(undefined),
  };
}

async function serveAndCollect(
  live: LiveEventStream,
  source: CatchUpSource,
  afterServe: () => Promise<void>,
): Promise<string[]> {
  const { response, ids } = recordingResponse();
  await EventStreamSession.serve({
    response,
    filter: {},
    lastEventId: 'before-a',
    live,
    source,
    limits: DEFAULT_EVENT_STREAM_LIMITS,
    heartbeatMs: 60_000,
    release: () => undefined,
  });
  await afterServe();
  response.destroy();
  return ids();
}

describe('an SSE session switching from its catch-up to live', () => {
  // An event is committed (in a page) before its live copy is published: the fan-out's order.
  it('sends an event once when its live copy arrives after the page, during the catch-up', async () => {
    const live = new LiveEventStream();
    const [a, b, c] = [ready(1), ready(2), ready(3)];
    const source = sourceOf([a, b], () => void live.publish(b));
    const ids = await serveAndCollect(live, source, async () => {
      await live.publish(c);
    });
    expect(ids).toEqual([a.eventId, b.eventId, c.eventId]);
  });

  it('sends an event once when its live copy arrives after the switch to live', async () => {
    const live = new LiveEventStream();
    const [a, b, c] = [ready(1), ready(2), ready(3)];
    const source = sourceOf([a, b], () => undefined);
    const ids = await serveAndCollect(live, source, async () => {
      await live.publish(b);
      await live.publish(c);
    });
    expect(ids).toEqual([a.eventId, b.eventId, c.eventId]);
  });
});
