import type { LifecycleEvent } from '@hodei/domain';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { HEARTBEAT_FRAME, resetFrame, RETRY_FRAME, sseFrame } from './sse-frames.js';

const ready: LifecycleEvent = {
  eventId: '00000000-0000-7000-8000-000000000001',
  type: 'WorkerEphemeralReady',
  occurredAt: '2025-04-01T10:00:00.000Z',
  providerId: 'p',
  workerId: 'w-1',
};

/**
 * What a browser's EventSource does with a stream: `onmessage` for events without an
 * `event:` field (type "message"), `addEventListener(name)` for named ones; comments dropped.
 */
function eventSource(stream: string) {
  const onmessage: EventSourceMessage[] = [];
  const named: EventSourceMessage[] = [];
  const comments: string[] = [];
  let retry: number | undefined;
  const parser = createParser({
    onEvent: (e) => ((e.event ?? 'message') === 'message' ? onmessage : named).push(e),
    onComment: (c) => comments.push(c),
    onRetry: (ms) => (retry = ms),
  });
  // In small pieces, as a socket may deliver it.
  for (let i = 0; i < stream.length; i += 7) parser.feed(stream.slice(i, i + 7));
  return { onmessage, named, comments, retry: () => retry };
}

describe('the SSE frames of GET /v1/events', () => {
  it('reach a plain onmessage handler, the CloudEvent type in the data and the id to resume', () => {
    const busy: LifecycleEvent = {
      ...ready,
      eventId: ready.eventId.replace(/1$/, '2'),
      type: 'WorkerEphemeralBusy',
    };
    const es = eventSource(RETRY_FRAME + sseFrame(ready) + HEARTBEAT_FRAME + sseFrame(busy));
    expect(es.named).toEqual([]);
    expect(es.onmessage.map((m) => m.id)).toEqual([ready.eventId, busy.eventId]);
    expect(es.onmessage.map((m) => JSON.parse(m.data) as unknown)).toEqual([
      expect.objectContaining({
        id: ready.eventId,
        type: 'io.hodei.lifecycle.WorkerEphemeralReady',
        subject: 'w-1',
      }),
      expect.objectContaining({ id: busy.eventId, type: 'io.hodei.lifecycle.WorkerEphemeralBusy' }),
    ]);
    expect(es.comments).toEqual(['heartbeat']);
    expect(es.retry()).toBe(2000);
  });

  it('keep a data line one line long whatever the event holds', () => {
    const failed: LifecycleEvent = {
      ...ready,
      type: 'WorkerEphemeralFailed',
      error: 'a\nb\r\nc\u2028d',
    };
    const es = eventSource(sseFrame(failed));
    expect(JSON.parse(es.onmessage[0]!.data)).toMatchObject({
      data: { error: 'a\nb\r\nc\u2028d' },
    });
  });

  it('send reset as the one named event, which onmessage does not see, with its resume id', () => {
    const es = eventSource(resetFrame('catch-up-limit', 'list the workers again', 'cursor-1'));
    expect(es.onmessage).toEqual([]);
    expect(es.named).toEqual([
      {
        event: 'reset',
        id: 'cursor-1',
        data: JSON.stringify({ reason: 'catch-up-limit', message: 'list the workers again' }),
      },
    ]);
  });
});
