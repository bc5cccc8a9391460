import { describe, expect, it } from 'vitest';
import { serializeErrors } from './serialize-errors.js';

describe('serializeErrors', () => {
  it('returns a value without errors as it is', () => {
    const value = { a: 1, b: [{ c: 'x' }], d: null };
    expect(serializeErrors(value)).toBe(value);
    expect(serializeErrors('text')).toBe('text');
  });

  it('serializes errors at any depth and leaves the input unchanged', () => {
    const error = Object.assign(new Error('boom'), { code: 'ECONNREFUSED' });
    const value = { outer: { list: [1, error] } };
    const out = serializeErrors(value) as { outer: { list: [number, Record<string, unknown>] } };
    expect(out.outer.list[1]).toMatchObject({
      type: 'Error',
      message: 'boom',
      code: 'ECONNREFUSED',
    });
    expect(value.outer.list[1]).toBe(error);
  });

  it('survives a cycle', () => {
    const value: Record<string, unknown> = { error: new Error('x') };
    value['self'] = value;
    const out = serializeErrors(value) as Record<string, unknown>;
    expect(out['error']).toMatchObject({ message: 'x' });
  });
});
