import type { LifecycleEvent, LifecycleEventPublisher, PublishError } from '@hodei/domain';
import { sampleEvents } from '@hodei/domain/testing';
import { errAsync, okAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { FanoutPublisher } from './fanout-publisher.js';

const unavailable: PublishError = {
  type: 'PublisherUnavailable',
  message: 'PostgreSQL is down',
  retryable: true,
};

const recording = (fails: boolean) => {
  const seen: LifecycleEvent[] = [];
  const publisher: LifecycleEventPublisher = {
    publish: (e) => {
      seen.push(e);
      return fails ? errAsync(unavailable) : okAsync(undefined);
    },
    publishBatch: (events) => {
      seen.push(...events);
      return fails ? errAsync(unavailable) : okAsync(undefined);
    },
    close: () => okAsync(undefined),
  };
  return { seen, publisher };
};

describe('FanoutPublisher', () => {
  it('publishes to every publisher although one fails, returns the error and names who failed', async () => {
    const postgres = recording(true);
    const live = recording(false);
    const failures: [string, number][] = [];
    const fanout = new FanoutPublisher(
      [
        { name: 'postgres', publisher: postgres.publisher },
        { name: 'live', publisher: live.publisher },
      ],
      (name, events) => failures.push([name, events.length]),
    );
    const events = sampleEvents();
    expect((await fanout.publish(events[0]!))._unsafeUnwrapErr()).toEqual(unavailable);
    expect((await fanout.publishBatch(events.slice(1))).isErr()).toBe(true);
    expect(live.seen).toEqual(events);
    expect(failures).toEqual([
      ['postgres', 1],
      ['postgres', events.length - 1],
    ]);
    expect(fanout.names).toEqual(['postgres', 'live']);
  });
});
