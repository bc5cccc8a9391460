import { describe, expect, it } from 'vitest';
import { MultiIndex } from './multi-index.js';

describe('MultiIndex', () => {
  it('keeps the values of a key in insertion order, through one, many and back to one', () => {
    const [a, b, c] = [{ n: 'a' }, { n: 'b' }, { n: 'c' }];
    const index = new MultiIndex<string, { n: string }>();
    index.add('k', a);
    index.add('k', a);
    expect(index.get('k')).toEqual([a]);
    index.add('k', b);
    index.add('k', c);
    expect(index.get('k')).toEqual([a, b, c]);
    expect(index.count('k')).toBe(3);
    index.delete('k', a);
    index.delete('k', c);
    expect(index.get('k')).toEqual([b]);
    index.delete('k', b);
    expect(index.get('k')).toEqual([]);
    expect(index.count('missing')).toBe(0);
  });
});
