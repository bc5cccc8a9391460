import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { paintWith } from './colour.js';
import { ageOf, formatAge, formatSpan } from './format-age.js';
import { formatStreamRow, formatTable } from './table.js';

const plain = paintWith(false);
const coloured = paintWith(true);

describe('formatTable', () => {
  it('aligns every column to its widest cell, three spaces apart, without trailing spaces', () => {
    const table = formatTable(
      ['ID', 'STATE', 'EXIT'],
      [
        ['a', 'busy', '-'],
        ['long-worker-id', 'terminated', '0'],
      ],
      plain,
    );
    expect(table).toBe(
      [
        'ID               STATE        EXIT',
        'a                busy         -',
        'long-worker-id   terminated   0',
        '',
      ].join('\n'),
    );
  });

  it('keeps the columns straight when cells are coloured', () => {
    const rows = [
      [{ text: 'busy', style: 'green' as const }, 'x'],
      [{ text: 'terminated', style: 'red' as const }, 'y'],
    ];
    const withColour = formatTable(['STATE', 'NEXT'], rows, coloured);
    expect(withColour).toContain('\u001b[');
    expect(stripVTControlCharacters(withColour)).toBe(formatTable(['STATE', 'NEXT'], rows, plain));
  });

  it('drops the spaces an empty last column would leave', () => {
    expect(formatTable(['A', 'B'], [['x', '']], plain)).toBe('A   B\nx\n');
  });

  it('prints streamed rows at fixed widths', () => {
    expect(formatStreamRow(['12:00', 'Ready', 'w1', 'x=1'], [6, 8, 4], plain)).toBe(
      '12:00    Ready      w1     x=1\n',
    );
  });
});

describe('formatAge', () => {
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [200_000, '3m20s'],
    [12 * 60_000, '12m'],
    [179 * 60_000, '179m'],
    [(2 * 60 + 5) * 60_000 + 180 * 60_000, '5h5m'],
    [3 * 3_600_000, '3h'],
    [30 * 3_600_000, '30h'],
    [(3 * 24 + 4) * 3_600_000, '3d4h'],
    [40 * 86_400_000, '40d'],
    [(2 * 365 + 30) * 86_400_000, '2y30d'],
    [9 * 365 * 86_400_000, '9y'],
  ])('shows %i ms as %s, as kubectl does', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });

  it('shows a time in the future or a bad one as 0s, and no time as -', () => {
    expect(formatAge(-5000)).toBe('0s');
    expect(formatAge(Number.NaN)).toBe('0s');
    expect(ageOf(null, 0)).toBe('-');
    expect(ageOf('2024-01-01T00:00:10Z', Date.parse('2024-01-01T00:01:00Z'))).toBe('50s');
  });
});

describe('formatSpan', () => {
  it.each([
    [200_000, '3m20s'],
    [59 * 60_000, '59m'],
    [60 * 60_000, '1h'],
    [118 * 60_000 + 30_000, '1h58m'],
    [149 * 60_000, '2h29m'],
    [179 * 60_000, '2h59m'],
    [(5 * 60 + 5) * 60_000, '5h5m'],
    [(3 * 24 + 4) * 3_600_000, '3d4h'],
  ])('shows %i ms as %s: hours from the first hour, as the age from there', (ms, text) => {
    expect(formatSpan(ms)).toBe(text);
  });
});
