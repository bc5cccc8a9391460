import { describe, expect, it } from 'vitest';
import { ValueSharing } from './value-sharing.js';

describe('ValueSharing', () => {
  it('hands out the last equal object seen at the same path, and remembers a different one', () => {
    const sharing = new ValueSharing();
    const first = { a: 1, b: [1, 2] };
    expect(sharing.tree('p', first)).toBe(first);
    expect(sharing.tree('p', { a: 1, b: [1, 2] })).toBe(first);
    expect(sharing.tree('q', { a: 1, b: [1, 2] })).not.toBe(first);
    const other = { b: [1, 2], a: 1 };
    expect(sharing.tree('p', other)).toBe(other);
  });

  it('tells apart what JSON would not: undefined, a missing key, NaN, null, -0', () => {
    const sharing = new ValueSharing();
    sharing.tree('p', { a: undefined });
    const missing = {};
    expect(sharing.tree('p', missing)).toBe(missing);
    sharing.tree('n', [NaN]);
    const nul = [null];
    expect(sharing.tree('n', nul)).toBe(nul);
    sharing.tree('z', [0]);
    const minusZero = [-0];
    expect(sharing.tree('z', minusZero)).toBe(minusZero);
  });

  it('shares, bottom-up, the parts below a root that equal the previous root’s', () => {
    const sharing = new ValueSharing();
    const one = { sc: { user: 1 }, containers: [{ env: [{ v: 'w-1' }], res: { cpu: '1' } }] };
    const two = { sc: { user: 1 }, containers: [{ env: [{ v: 'w-2' }], res: { cpu: '1' } }] };
    sharing.treesBelow(one, 's');
    sharing.treesBelow(two, 's');
    expect(two.sc).toBe(one.sc);
    expect(two.containers[0]?.res).toBe(one.containers[0]?.res);
    expect(two.containers[0]?.env).not.toBe(one.containers[0]?.env);
    expect(two).toEqual({
      sc: { user: 1 },
      containers: [{ env: [{ v: 'w-2' }], res: { cpu: '1' } }],
    });
  });
});
