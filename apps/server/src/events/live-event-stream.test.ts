import type { LifecycleEvent } from '@hodei/domain';
import { describe, expect, it } from 'vitest';
import { LiveEventStream, type LiveEvent } from './live-event-stream.js';
import { sseFrame } from './sse-frames.js';

const ready = (n: number, workerId = `w-${n}`): LifecycleEvent => ({
  eventId: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  type: 'WorkerEphemeralReady',
  occurredAt: '2025-04-01T10:00:00.000Z',
  providerId: 'p',
  workerId,
});

describe('the live event stream', () => {
  it('keeps every worker event without a store, equal to what was published', async () => {
    const live = new LiveEventStream();
    const [a, b] = [ready(1, 'w'), ready(2, 'w')];
    await live.publishBatch([a, b]);
    expect(live.historyOf('w')).toEqual([a, b]);
    expect(live.after(a.eventId)).toEqual([b]);
    expect(live.newest()).toEqual(b);
  });

  it('keeps per worker only what the store may lack, and forgets it once the store caught up', async () => {
    let unstored = false;
    const live = new LiveEventStream({ unstored: () => unstored });
    await live.publish(ready(1, 'w'));
    expect(live.historyOf('w')).toBeUndefined();
    unstored = true;
    const spooled = ready(2, 'w');
    await live.publish(spooled);
    expect(live.historyOf('w')).toEqual([spooled]);
    unstored = false;
    expect(live.historyOf('w')).toBeUndefined();
    // SSE resume from memory still has every recent event.
    expect(live.after(ready(1).eventId)).toEqual([spooled]);
  });

  it('bounds the recent buffer, the events per worker and the workers', async () => {
    const live = new LiveEventStream({ bufferSize: 3, perWorker: 2, workers: 2 });
    for (let n = 1; n <= 5; n++) await live.publish(ready(n, n <= 3 ? 'a' : `b-${n}`));
    expect(live.after(ready(1).eventId)).toBeUndefined();
    expect(live.after(ready(3).eventId)).toEqual([ready(4, 'b-4'), ready(5, 'b-5')]);
    expect(live.historyOf('a')).toBeUndefined();
    expect(live.historyOf('b-5')).toEqual([ready(5, 'b-5')]);
    const one = new LiveEventStream({ perWorker: 2 });
    for (let n = 1; n <= 3; n++) await one.publish(ready(n, 'a'));
    expect(one.historyOf('a')).toEqual([ready(2, 'a'), ready(3, 'a')]);
  });

  it('gives every listener the same frame, built once per event', async () => {
    const live = new LiveEventStream();
    const got: LiveEvent[] = [];
    live.subscribe((_, l) => got.push(l));
    live.subscribe((_, l) => got.push(l));
    const event = ready(1);
    await live.publish(event);
    expect(got).toHaveLength(2);
    expect(got[0]!.frame).toBe(got[1]!.frame);
    expect(got[0]!.frame.toString('utf8')).toBe(sseFrame(event));
    expect(got[0]!.subject).toBe('w-1');
  });
});
