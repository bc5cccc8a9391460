import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../events/lifecycle-event.js';
import type { LifecycleEventPublisher } from '../ports/event-publisher.port.js';
import { sampleEvents } from './sample-events.js';

export interface PublisherContractSubject {
  readonly publisher: LifecycleEventPublisher;
  /** Everything the publisher has durably written so far, oldest first. */
  read(): Promise<LifecycleEvent[]>;
  teardown(): Promise<void>;
}

/**
 * The behaviour every LifecycleEventPublisher owes (SPEC §4, §7). `setup` is called once per
 * test, so each starts from an empty sink.
 */
export function describePublisherContract(
  name: string,
  setup: () => Promise<PublisherContractSubject>,
): void {
  describe(`LifecycleEventPublisher contract: ${name}`, () => {
    let subject: PublisherContractSubject;
    const opened: PublisherContractSubject[] = [];
    const open = async (): Promise<PublisherContractSubject> => {
      const s = await setup();
      opened.push(s);
      return s;
    };

    beforeAll(async () => {
      subject = await open();
    });

    afterAll(async () => {
      for (const s of opened) await s.teardown();
    });

    it('publishes one event of every type and reads each back with all its fields', async () => {
      const s = await open();
      const events = sampleEvents('contract-a', 'contract-a-1');
      for (const event of events) {
        expect((await s.publisher.publish(event)).isOk()).toBe(true);
      }
      await s.publisher.close();
      expect(await s.read()).toEqual(events);
    });

    it('publishes a batch in order, and an empty batch as a no-op', async () => {
      const s = await open();
      const events = sampleEvents('contract-b', 'contract-b-1');
      expect((await s.publisher.publishBatch([])).isOk()).toBe(true);
      expect((await s.publisher.publishBatch(events)).isOk()).toBe(true);
      await s.publisher.close();
      expect((await s.read()).map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
    });

    it('refuses to publish after close with PublisherClosed, and closes twice without error', async () => {
      expect((await subject.publisher.close()).isOk()).toBe(true);
      expect((await subject.publisher.close()).isOk()).toBe(true);
      const result = await subject.publisher.publish(sampleEvents('contract-c')[0]!);
      expect(result.isErr() && result.error.type).toBe('PublisherClosed');
    });
  });
}
