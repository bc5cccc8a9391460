import type { GarbageCollectionCompleted } from '@hodei/domain';
import { sampleEvents } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { levelOfEvent } from './event-levels.js';

describe('levelOfEvent', () => {
  const byType = new Map(sampleEvents().map((event) => [event.type, event]));

  it('follows SPEC §7: info for create, debug for ready, warn for orphans and lost workers', () => {
    expect(levelOfEvent(byType.get('WorkerEphemeralCreated')!)).toBe('info');
    expect(levelOfEvent(byType.get('WorkerEphemeralReady')!)).toBe('debug');
    expect(levelOfEvent(byType.get('OrphanWorkerDetected')!)).toBe('warn');
    expect(levelOfEvent(byType.get('WorkerLost')!)).toBe('warn');
  });

  it('puts a failed worker at error and a clean GC pass at debug', () => {
    expect(levelOfEvent(byType.get('WorkerEphemeralFailed')!)).toBe('error');
    expect(levelOfEvent(byType.get('GarbageCollectionCompleted')!)).toBe('debug');
  });

  it('raises a GC pass with errors to warn unless its type is overridden', () => {
    const gc = sampleEvents().find(
      (e): e is GarbageCollectionCompleted => e.type === 'GarbageCollectionCompleted',
    )!;
    const failing: GarbageCollectionCompleted = { ...gc, errors: 1 };
    expect(levelOfEvent(failing)).toBe('warn');
    expect(levelOfEvent(failing, { GarbageCollectionCompleted: 'info' })).toBe('info');
  });
});
