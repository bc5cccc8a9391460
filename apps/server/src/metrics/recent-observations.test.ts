import { describe, expect, it } from 'vitest';
import { RecentObservations } from './recent-observations.js';

const MINUTE = 60_000;

describe('RecentObservations', () => {
  it('summarises a window: count, nearest-rank p50, p90, p99 and max', () => {
    const recent = new RecentObservations();
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
    const recent = new RecentObservations();
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
    const recent = new RecentObservations();
    recent.add('lifetime', 0, 100);
    recent.add('lifetime', 50 * MINUTE, 2);
    recent.add('idleTail', 55 * MINUTE, 7);
    const now = 60 * MINUTE;
    expect(recent.summary('lifetime', now, 30 * MINUTE)).toMatchObject({ count: 1, max: 2 });
    expect(recent.summary('lifetime', now, 60 * MINUTE)).toMatchObject({ count: 2, max: 100 });
    expect(recent.summary('idleTail', now, 60 * MINUTE)).toMatchObject({ count: 1, p50: 7 });
  });

  it('keeps at most its bound per series, the newest', () => {
    const recent = new RecentObservations(3);
    for (let i = 1; i <= 5; i++) recent.add('startup', i, i);
    expect(recent.summary('startup', 10, MINUTE)).toMatchObject({ count: 3, p50: 4, max: 5 });
  });

  it('drops what is older than its longest window', () => {
    const recent = new RecentObservations(10, 10 * MINUTE);
    recent.add('forceRemove', 0, 1);
    recent.add('forceRemove', 11 * MINUTE, 2);
    expect(recent.summary('forceRemove', 11 * MINUTE, 60 * MINUTE)).toMatchObject({
      count: 1,
      max: 2,
    });
  });
});
