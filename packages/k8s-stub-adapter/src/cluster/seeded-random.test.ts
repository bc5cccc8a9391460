import { describe, expect, it } from 'vitest';
import { SeededRandom } from './seeded-random.js';

describe('SeededRandom', () => {
  it('draws the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => {
      const r = new SeededRandom(seed);
      return Array.from({ length: 8 }, () => r.next());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
  });

  it('stays within its ranges', () => {
    const r = new SeededRandom(9);
    for (let i = 0; i < 1_000; i++) {
      const f = r.next();
      expect(f >= 0 && f < 1).toBe(true);
      const n = r.int(3, 5);
      expect(n >= 3 && n <= 5).toBe(true);
    }
    expect(r.suffix()).toMatch(/^[a-z0-9]{5}$/);
    expect(r.pick([])).toBeUndefined();
    expect(r.chance(0)).toBe(false);
  });
});
