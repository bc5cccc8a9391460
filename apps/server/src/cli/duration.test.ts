import { err, ok } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { parseDuration, secondsArgument } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['90', 90_000],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    [' 10s ', 10_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toEqual(ok(ms));
  });

  it.each(['', 'soon', '5 m', '10x', 'm5', '-3s', '5m junk'])('refuses %j', (text) => {
    expect(parseDuration(text)).toEqual(
      err(`"${text}" is not a duration: give seconds (90) or units (90s, 5m, 1h30m, 2d)`),
    );
  });

  it('takes whole seconds only where the API counts in seconds', () => {
    expect(secondsArgument('2m')).toBe(120);
    expect(() => secondsArgument('1500ms')).toThrow('not a whole number of seconds');
  });
});
