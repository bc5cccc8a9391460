import { describe, expect, it } from 'vitest';
import { malformedStrings } from './well-formed-input.js';

describe('malformedStrings', () => {
  it('finds nothing in well-formed input, astral characters included', () => {
    expect(
      malformedStrings({ command: ['echo', 'é😀'], env: { A: 'x' }, n: 1, b: null }, 'body'),
    ).toEqual([]);
  });

  it('names each string with a NUL or a lone surrogate by its path', () => {
    expect(
      malformedStrings(
        { command: ['ok', 'a\u0000b'], env: { A: '\uD800', B: 'x\uDC00y', C: '\uDBFF\uDFFF' } },
        'body',
      ),
    ).toEqual([
      { path: 'body.command.1', message: 'contains a NUL character' },
      { path: 'body.env.A', message: 'is not well-formed UTF-16 (it has a lone surrogate)' },
      { path: 'body.env.B', message: 'is not well-formed UTF-16 (it has a lone surrogate)' },
    ]);
  });

  it('checks the names of object members, printing them escaped', () => {
    expect(malformedStrings({ env: { 'A\u0000': 'x', '\uD83D': 'y' } }, 'body')).toEqual([
      { path: 'body.env.A\\u0000', message: 'its name contains a NUL character' },
      {
        path: 'body.env.\\ud83d',
        message: 'its name is not well-formed UTF-16 (it has a lone surrogate)',
      },
    ]);
  });

  it('checks a bare string under its context', () => {
    expect(malformedStrings('a\u0000', 'params.id')).toEqual([
      { path: 'params.id', message: 'contains a NUL character' },
    ]);
  });

  it('walks nesting far deeper than the call stack allows', () => {
    let deep: unknown = '\u0000';
    for (let i = 0; i < 200_000; i += 1) deep = [deep];
    expect(malformedStrings(deep, 'body')).toHaveLength(1);
  });

  it('stops at 20 problems', () => {
    expect(
      malformedStrings(
        Array.from({ length: 1000 }, () => '\u0000'),
        'body',
      ),
    ).toHaveLength(20);
  });
});
