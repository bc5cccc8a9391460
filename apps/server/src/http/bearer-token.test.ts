import { describe, expect, it } from 'vitest';
import { bearerTokenMatches } from './bearer-token.js';

const TOKEN = 'secret-token-0123456789';

describe('bearerTokenMatches', () => {
  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('accepts the scheme spelled %s', (scheme) => {
    expect(bearerTokenMatches(`${scheme} ${TOKEN}`, TOKEN)).toBe(true);
  });

  it('accepts several spaces before the token', () => {
    expect(bearerTokenMatches(`Bearer   ${TOKEN}`, TOKEN)).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['another scheme', `Basic ${TOKEN}`],
    ['no space', `Bearer${TOKEN}`],
    ['a wrong token', 'Bearer not-the-token'],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['the token and more', `Bearer ${TOKEN} extra`],
    ['the bare token', TOKEN],
  ])('refuses %s', (_what, header) => {
    expect(bearerTokenMatches(header, TOKEN)).toBe(false);
  });
});
