import { pino } from 'pino';

/** How deep a cause chain or a nested record is followed before the rest is cut. */
const MAX_DEPTH = 8;

const isPlainObject = (value: object): value is Record<string, unknown> => {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * Turns every `Error` at any depth of plain objects and arrays into pino's serialized form
 * (`type`, `message` with its causes, `stack`, its own fields such as `code` or `statusCode`),
 * so a cause nested in a field (`{ error: { type, cause: err } }`) is not written as `{}`.
 * Returns the input itself when it holds no error; never mutates.
 */
export function serializeErrors(value: unknown): unknown {
  return walk(value, 0, new Set());
}

/** `serializeErrors` for a record, keeping its type. */
export function serializeRecordErrors(
  record: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  return walk(record, 0, new Set()) as Readonly<Record<string, unknown>>;
}

function walk(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return pino.stdSerializers.err(value);
  if (depth >= MAX_DEPTH || ancestors.has(value)) return value;
  if (Array.isArray(value)) {
    ancestors.add(value);
    let changed = false;
    const copy = value.map((item: unknown) => {
      const next = walk(item, depth + 1, ancestors);
      if (next !== item) changed = true;
      return next;
    });
    ancestors.delete(value);
    return changed ? copy : value;
  }
  if (!isPlainObject(value)) return value;
  ancestors.add(value);
  let changed = false;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const next = walk(item, depth + 1, ancestors);
    if (next !== item) changed = true;
    copy[key] = next;
  }
  ancestors.delete(value);
  return changed ? copy : value;
}
