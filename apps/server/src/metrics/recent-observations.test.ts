import { describe, expect, it } from 'vitest';
import {
  MAX_CLOCK_SKEW_MS,
  MAX_RECENT_PER_SERIES,
  MAX_WINDOW_SECONDS,
  RecentObservations,
} from './recent-observations.js';

const MINUTE = 60_000;
const DAY = MAX_WINDOW_SECONDS * 1000;

/** A window whose clock reads `clock.now`, set by the test. */
const withClock = (clock: { now: number }, maxPerSeries = MAX_RECENT_PER_SERIES, maxAgeMs = DAY) =>
  new RecentObservations(maxPerSeries, maxAgeMs, () => clock.now);

describe('RecentObservations', () => {
  it('summarises a window: count, nearest-rank p50, p90, p99 and max', () => {
    const recent = withClock({ now: 1_000_200 });
    for (let i = 1; i <= 100; i++) recent.add('lifetime', 1_000_000 + i, i / 10);
    expect(recent.summary('lifetime', 1_000_200, MINUTE)).toEqual({
      count: 100,
      p50: 5,
      p90: 9,
      p99: 9.9,
      max: 10,
    });
  });

  it('gives null figures for a series with nothing in the window', () => {
    const recent = withClock({ now: 0 });
    recent.add('idle', 0, 3);
    expect(recent.summary('idle', 2 * MINUTE, MINUTE)).toEqual({
      count: 0,
      p50: null,
      p90: null,
      p99: null,
      max: null,
    });
    expect(recent.summary('ttl', 0, MINUTE).count).toBe(0);
  });

  it('counts only what is inside the window, each series apart', () => {
    const recent = withClock({ now: 60 * MINUTE });
    recent.add('lifetime', 0, 100);
    recent.add('lifetime', 50 * MINUTE, 2);
    recent.add('idleTail', 55 * MINUTE, 7);
    const now = 60 * MINUTE;
    expect(recent.summary('lifetime', now, 30 * MINUTE)).toMatchObject({ count: 1, max: 2 });
    expect(recent.summary('lifetime', now, 60 * MINUTE)).toMatchObject({ count: 2, max: 100 });
    expect(recent.summary('idleTail', now, 60 * MINUTE)).toMatchObject({ count: 1, p50: 7 });
  });

  it('keeps at most its bound per series, the newest', () => {
    const recent = withClock({ now: 10 }, 3);
    for (let i = 1; i <= 5; i++) recent.add('startup', i, i);
    expect(recent.summary('startup', 10, MINUTE)).toMatchObject({ count: 3, p50: 4, max: 5 });
  });

  it('drops what is older than its longest window', () => {
    const clock = { now: 0 };
    const recent = withClock(clock, 10, 10 * MINUTE);
    recent.add('forceRemove', 0, 1);
    clock.now = 11 * MINUTE;
    recent.add('forceRemove', 11 * MINUTE, 2);
    expect(recent.summary('forceRemove', 11 * MINUTE, 60 * MINUTE)).toMatchObject({
      count: 1,
      max: 2,
    });
  });

  it('ignores an observation dated beyond the clock skew ahead: it neither counts nor drops others', () => {
    const now = 10 * DAY;
    const recent = withClock({ now });
    recent.add('ttl', now - MINUTE, 1);
    recent.add('ttl', now + MAX_CLOCK_SKEW_MS + 1, 99);
    recent.add('ttl', now + 2 * DAY, 98);
    recent.add('ttl', now + MAX_CLOCK_SKEW_MS, 2);
    expect(recent.summary('ttl', now, 60 * MINUTE)).toMatchObject({ count: 2, max: 2 });
  });

  it('counts no observation older than the window, also one that came late, out of order', () => {
    const now = 10 * DAY;
    const recent = withClock({ now }, 3);
    recent.add('idle', now - MINUTE, 1);
    recent.add('idle', now - 2 * DAY, 50);
    recent.add('idle', now - 90 * MINUTE, 40);
    recent.add('idle', now - 30 * MINUTE, 2);
    recent.add('idle', now - 2 * MINUTE, 3);
    // The one older than the longest window took no place: the ring of 3 holds the last three.
    expect(recent.summary('idle', now, DAY)).toMatchObject({ count: 3, max: 40 });
    expect(recent.summary('idle', now, 60 * MINUTE)).toMatchObject({ count: 2, max: 3 });
  });
});
