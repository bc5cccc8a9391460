import type { Clock } from '../ports/clock.port.js';

/** A clock that moves only when a test says so. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: number | string = '2025-01-01T00:00:00.000Z') {
    this.#now = typeof start === 'number' ? start : Date.parse(start);
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    if (!Number.isInteger(ms) || ms < 0) {
      throw new RangeError(`ManualClock.advance takes a non-negative integer, got ${ms}`);
    }
    this.#now += ms;
  }

  set(ms: number): void {
    this.#now = ms;
  }
}
