import { err, ok, type Result } from 'neverthrow';
import type { InvalidCursor } from './event-store.errors.js';

/** A position in the global order: `(transaction_id, global_position)`. */
export interface LogPosition {
  readonly transactionId: string;
  readonly globalPosition: string;
}

export const START_POSITION: LogPosition = { transactionId: '0', globalPosition: '0' };

const PREFIX = 'c1.';

/** The opaque resume cursor clients hold (SSE `Last-Event-ID`, history pages). */
export function encodeCursor(position: LogPosition): string {
  return (
    PREFIX +
    Buffer.from(`${position.transactionId}:${position.globalPosition}`).toString('base64url')
  );
}

export function decodeCursor(cursor: string): Result<LogPosition, InvalidCursor> {
  const invalid = err<never, InvalidCursor>({
    type: 'InvalidCursor',
    cursor,
    message: 'not a cursor issued by this event bus',
  });
  if (!cursor.startsWith(PREFIX)) return invalid;
  const text = Buffer.from(cursor.slice(PREFIX.length), 'base64url').toString('utf8');
  const match = /^(\d{1,20}):(\d{1,19})$/.exec(text);
  if (match === null) return invalid;
  return ok({ transactionId: match[1] ?? '0', globalPosition: match[2] ?? '0' });
}
