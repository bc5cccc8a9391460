import type { WorkerView } from './worker-view.js';

/** A worker in the listing order: creation time (epoch ms), then id. */
export interface Row {
  readonly createdAt: number;
  readonly id: string;
  readonly view: () => WorkerView;
}

/** Where a page ends: the (creation time, id) of its last row. */
export type CursorKey = readonly [number, string];

export const encodeCursor = (row: Row): string =>
  Buffer.from(JSON.stringify([row.createdAt, row.id])).toString('base64url');

/** The key a cursor carries, or `null` for a cursor this server did not issue. */
export function decodeCursor(cursor: string): CursorKey | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') {
      return [parsed[0], parsed[1]];
    }
    return null;
  } catch {
    return null;
  }
}

export const compareKey = (
  row: { readonly createdAt: number; readonly id: string },
  key: CursorKey,
): number => (row.createdAt === key[0] ? compareText(row.id, key[1]) : row.createdAt - key[0]);

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
