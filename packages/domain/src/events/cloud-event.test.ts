import { describe, expect, it } from 'vitest';
import { sampleEvents } from '../testing/sample-events.js';
import { fromCloudEvent, toCloudEvent } from './cloud-event.js';
import { LIFECYCLE_EVENT_TYPES } from './lifecycle-event.js';

describe('the CloudEvents envelope', () => {
  it('maps a worker event to a CloudEvents 1.0 envelope (SPEC §3.6)', () => {
    const created = sampleEvents('docker', 'w-1')[0]!;
    expect(toCloudEvent(created)).toEqual({
      specversion: '1.0',
      id: created.eventId,
      type: 'io.hodei.lifecycle.WorkerEphemeralCreated',
      source: '/hodei/providers/docker',
      subject: 'w-1',
      time: created.occurredAt,
      datacontenttype: 'application/json',
      data: {
        mode: 'job',
        image: 'hodei/worker:0.1.0',
        resourceId: 'r-1',
        maxLifetimeSecs: 1800,
        ttlAfterCompletionSecs: 120,
      },
      correlationid: 'corr-1',
      actor: 'api',
    });
  });

  it('has no subject for GC and orphan events, and keeps the orphan claimed worker id as data', () => {
    const events = sampleEvents();
    const orphan = toCloudEvent(events.find((e) => e.type === 'OrphanWorkerDetected')!);
    const gc = toCloudEvent(events.find((e) => e.type === 'GarbageCollectionCompleted')!);
    expect(orphan.subject).toBeUndefined();
    expect(orphan.data['workerId']).toBe('stray-1');
    expect(gc.subject).toBeUndefined();
  });

  it('reads every event type back unchanged', () => {
    const events = sampleEvents();
    expect(events.map((e) => e.type)).toEqual([...LIFECYCLE_EVENT_TYPES]);
    for (const event of events) {
      expect(
        fromCloudEvent(JSON.parse(JSON.stringify(toCloudEvent(event))))._unsafeUnwrap(),
      ).toEqual(event);
    }
  });

  it("carries a worker event's resource (its life) as data, and reads older events without it", () => {
    const busy = {
      eventId: 'e-1',
      occurredAt: '2025-01-01T00:00:00.000Z',
      providerId: 'docker',
      workerId: 'w-1',
      type: 'WorkerEphemeralBusy',
    } as const;
    const withLife = toCloudEvent({ ...busy, resourceId: 'r-9' });
    expect(withLife.data).toEqual({ resourceId: 'r-9' });
    expect(fromCloudEvent(withLife)._unsafeUnwrap()).toEqual({ ...busy, resourceId: 'r-9' });
    const older = fromCloudEvent(toCloudEvent(busy))._unsafeUnwrap();
    expect(older).toEqual(busy);
    expect('resourceId' in older).toBe(false);
  });

  it.each([
    [null, 'not an object'],
    [{ specversion: '0.3' }, 'specversion'],
    [{ specversion: '1.0', type: 'io.hodei.lifecycle.Nope' }, 'unknown type'],
    [{ specversion: '1.0', type: 'io.hodei.lifecycle.WorkerLost', source: '/elsewhere' }, 'source'],
  ])('rejects %j naming the problem', (input, message) => {
    expect(fromCloudEvent(input)._unsafeUnwrapErr().message).toContain(message);
  });
});
