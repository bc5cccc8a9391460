import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineIndex } from './deadline-index.js';

describe('DeadlineIndex', () => {
  it('pops what is due, earliest first, and nothing else', () => {
    const index = new DeadlineIndex();
    index.set('c', 30);
    index.set('a', 10);
    index.set('b', 20);
    expect(index.popDue(5)).toEqual([]);
    expect(index.popDue(20)).toEqual(['a', 'b']);
    expect(index.peek()).toBe(30);
    expect(index.size).toBe(1);
  });

  it('follows a deadline moved later, moved earlier, or cleared', () => {
    const index = new DeadlineIndex();
    index.set('later', 10);
    index.set('later', 50);
    index.set('earlier', 40);
    index.set('earlier', 5);
    index.set('cleared', 1);
    index.set('cleared', null);
    expect(index.popDue(10)).toEqual(['earlier']);
    expect(index.popDue(49)).toEqual([]);
    expect(index.popDue(50)).toEqual(['later']);
    expect(index.size).toBe(0);
  });

  it('agrees with a plain map under any sequence of sets and pops', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        key: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        at: fc.option(fc.integer({ min: 0, max: 100 })),
      }),
      fc.record({ kind: fc.constant('pop' as const), now: fc.integer({ min: 0, max: 100 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const index = new DeadlineIndex();
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            index.set(o.key, o.at);
            if (o.at === null) model.delete(o.key);
            else model.set(o.key, o.at);
          } else {
            const due = [...model.entries()]
              .filter(([, at]) => at <= o.now)
              .sort((x, y) => x[1] - y[1]);
            const popped = index.popDue(o.now);
            expect(new Set(popped)).toEqual(new Set(due.map(([k]) => k)));
            const times = popped.map((k) => model.get(k)!);
            expect(times).toEqual([...times].sort((x, y) => x - y));
            for (const [k] of due) model.delete(k);
          }
          expect(index.size).toBe(model.size);
          const earliest = Math.min(...model.values());
          expect(index.peek()).toBe(model.size === 0 ? undefined : earliest);
        }
      }),
      { numRuns: 500 },
    );
  });
});
