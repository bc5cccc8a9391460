import { describe, expect, it } from 'vitest';
import { ManualClock } from './manual-clock.js';

describe('ManualClock', () => {
  it('starts at the given instant and moves only when advanced', () => {
    const clock = new ManualClock('2025-01-01T00:00:00.000Z');
    expect(clock.now()).toBe(Date.parse('2025-01-01T00:00:00.000Z'));
    clock.advance(1500);
    expect(clock.now()).toBe(Date.parse('2025-01-01T00:00:01.500Z'));
  });

  it('refuses to move backwards', () => {
    expect(() => new ManualClock(0).advance(-1)).toThrow(RangeError);
  });
});
