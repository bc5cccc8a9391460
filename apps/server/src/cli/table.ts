import { stripVTControlCharacters } from 'node:util';
import type { Paint, Style } from './colour.js';

/** A cell: text, or text with a colour (applied after alignment, so columns stay straight). */
export type Cell = string | { readonly text: string; readonly style?: Style | undefined };

const GAP = '   ';

const textOf = (cell: Cell): string => (typeof cell === 'string' ? cell : cell.text);
const styleOf = (cell: Cell): Style | undefined =>
  typeof cell === 'string' ? undefined : cell.style;
const width = (text: string): number => stripVTControlCharacters(text).length;

/**
 * Rows under their headers, each column as wide as its widest cell and three spaces apart
 * (as kubectl prints); no trailing spaces. Ends with a newline.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  paint: Paint,
): string {
  const widths = headers.map((h, i) =>
    Math.max(width(h), ...rows.map((r) => width(textOf(r[i] ?? '')))),
  );
  const line = (cells: readonly Cell[], header: boolean): string =>
    cells
      .map((cell, i) => {
        const text = textOf(cell);
        const last = i === cells.length - 1;
        const padded = last ? text : text + ' '.repeat((widths[i] ?? 0) - width(text));
        const style = header ? undefined : styleOf(cell);
        if (style === undefined) return padded;
        // Colour the text only, not its padding.
        return paint(style, text) + padded.slice(text.length);
      })
      .join(GAP)
      .trimEnd();
  return [line(headers, true), ...rows.map((r) => line(r, false))].join('\n') + '\n';
}

/** One row of a table printed as it streams: fixed widths, the last column free. */
export function formatStreamRow(
  cells: readonly Cell[],
  widths: readonly number[],
  paint: Paint,
): string {
  return (
    cells
      .map((cell, i) => {
        const text = textOf(cell);
        const w = widths[i];
        const padded = w === undefined || i === cells.length - 1 ? text : text.padEnd(w);
        const style = styleOf(cell);
        return style === undefined ? padded : paint(style, text) + padded.slice(text.length);
      })
      .join(GAP)
      .trimEnd() + '\n'
  );
}
