import { describe, expect, it } from 'vitest';
import { matchesSelector, parseLabelSelector } from './label-selector.js';

const matches = (selector: string, labels: Record<string, string>): boolean =>
  matchesSelector(labels, parseLabelSelector(selector)._unsafeUnwrap());

describe('label selectors', () => {
  it('matches equality, inequality, existence and set requirements together', () => {
    const labels = { 'hodei.managed': 'true', 'hodei.provider-id': 'p1', tier: 'gold' };
    expect(matches('hodei.managed=true,hodei.provider-id=p1', labels)).toBe(true);
    expect(matches('hodei.managed==true,hodei.provider-id!=p2', labels)).toBe(true);
    expect(matches('hodei.provider-id=p2', labels)).toBe(false);
    expect(matches('tier,!missing', labels)).toBe(true);
    expect(matches('!tier', labels)).toBe(false);
    expect(matches('tier in (gold, silver)', labels)).toBe(true);
    expect(matches('tier notin (gold)', labels)).toBe(false);
    expect(matches('other notin (gold)', labels)).toBe(true);
    expect(matches('', {})).toBe(true);
  });

  it('requires every requirement: a pod without labels matches no non-empty selector', () => {
    expect(matches('hodei.managed=true', {})).toBe(false);
  });

  it('rejects a selector it cannot parse', () => {
    expect(parseLabelSelector('a=b,=c')._unsafeUnwrapErr().type).toBe('InvalidSelector');
  });
});
