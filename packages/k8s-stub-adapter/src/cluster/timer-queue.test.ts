import { describe, expect, it } from 'vitest';
import { TimerQueue } from './timer-queue.js';

describe('TimerQueue', () => {
  it('pops the items due by a time, earliest first, and keeps the later ones', () => {
    const q = new TimerQueue<string>();
    for (const [at, item] of [
      [30, 'c'],
      [10, 'a'],
      [50, 'e'],
      [20, 'b'],
      [40, 'd'],
    ] as const)
      q.push(at, item);
    q.push(-Infinity, 'now');
    expect(q.popDue(30)).toEqual(['now', 'a', 'b', 'c']);
    expect(q.popDue(30)).toEqual([]);
    expect(q.size).toBe(2);
    expect(q.popDue(100)).toEqual(['d', 'e']);
  });

  it('keeps only the entries a compaction accepts, still in time order', () => {
    const q = new TimerQueue<number>();
    for (let i = 10; i > 0; i--) q.push(i, i);
    q.compact((_, item) => item % 2 === 0);
    expect(q.size).toBe(5);
    expect(q.popDue(Infinity)).toEqual([2, 4, 6, 8, 10]);
  });
});
