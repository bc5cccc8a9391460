import { LIFECYCLE_EVENT_TYPES } from '@hodei/domain';
import { describe, expect, it } from 'vitest';
import { eventFilterOf, matchesSubject } from './event-filter.js';

describe('the filter of GET /v1/events', () => {
  it('leaves the GC pass reports out unless asked for', () => {
    const filter = eventFilterOf({})._unsafeUnwrap();
    expect(filter).toEqual({ excludeTypes: ['GarbageCollectionCompleted'] });
    expect(matchesSubject(filter, undefined, 'GarbageCollectionCompleted')).toBe(false);
    expect(matchesSubject(filter, 'w', 'WorkerEphemeralReady')).toBe(true);
    const all = eventFilterOf({ heartbeats: 'true' })._unsafeUnwrap();
    expect(all).toEqual({});
    expect(matchesSubject(all, undefined, 'GarbageCollectionCompleted')).toBe(true);
    expect(eventFilterOf({ heartbeats: 'false' })._unsafeUnwrap()).toEqual(filter);
  });

  it('takes a comma list of types, each short or as its CloudEvents type', () => {
    const filter = eventFilterOf({
      workerId: 'w-1',
      type: 'WorkerEphemeralReady, io.hodei.lifecycle.WorkerLost,WorkerEphemeralReady',
    })._unsafeUnwrap();
    expect(filter).toEqual({ workerId: 'w-1', types: ['WorkerEphemeralReady', 'WorkerLost'] });
    expect(matchesSubject(filter, 'w-1', 'WorkerLost')).toBe(true);
    expect(matchesSubject(filter, 'w-1', 'WorkerEphemeralBusy')).toBe(false);
    expect(matchesSubject(filter, 'w-2', 'WorkerLost')).toBe(false);
  });

  it('accepts every event type in both spellings', () => {
    for (const type of LIFECYCLE_EVENT_TYPES) {
      expect(eventFilterOf({ type })._unsafeUnwrap()).toEqual({ types: [type] });
      expect(eventFilterOf({ type: `io.hodei.lifecycle.${type}` })._unsafeUnwrap()).toEqual({
        types: [type],
      });
    }
  });

  it('sends the GC pass reports when the list names them, or with heartbeats=true', () => {
    expect(eventFilterOf({ type: 'GarbageCollectionCompleted' })._unsafeUnwrap()).toEqual({
      types: ['GarbageCollectionCompleted'],
    });
    expect(eventFilterOf({ type: 'WorkerLost', heartbeats: 'true' })._unsafeUnwrap()).toEqual({
      types: ['WorkerLost', 'GarbageCollectionCompleted'],
    });
  });

  it('refuses an unknown type, naming it, in the validation error envelope', () => {
    const result = eventFilterOf({ type: 'WorkerEphemeralReady,WorkerCreated,io.hodei.Nope' });
    const error = result._unsafeUnwrapErr();
    expect(error).toMatchObject({
      error: 'ValidationFailed',
      problems: [
        {
          path: 'query.type',
          message: expect.stringContaining('"WorkerCreated", "io.hodei.Nope"'),
        },
      ],
    });
    expect(error.message).toMatch(
      /^query\.type unknown event type "WorkerCreated", "io\.hodei\.Nope"; known: WorkerEphemeralCreated, /,
    );
  });

  it('reads a blank type as no type filter', () => {
    expect(eventFilterOf({ type: ' , ' })._unsafeUnwrap()).toEqual({
      excludeTypes: ['GarbageCollectionCompleted'],
    });
  });
});
