/** Keys whose values never reach a log line (`*TOKEN*`, `*PASSWORD*`, `*SECRET*`). */
export const SECRET_KEY_PATTERN = /token|password|secret/i;

export const REDACTED = '[Redacted]';

const CIRCULAR = '[Circular]';

const isPlainObject = (value: object): value is Record<string, unknown> => {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * Replaces the value of every key matching `pattern`, at any depth of plain objects and
 * arrays. Returns the input itself when nothing matched, a copy otherwise; never mutates.
 * pino's own `redact` takes exact, case-sensitive paths, so it cannot express "any key that
 * looks like a secret, anywhere".
 */
export function redactSecrets(value: unknown, pattern: RegExp = SECRET_KEY_PATTERN): unknown {
  return walk(value, pattern, new Set());
}

/** `redactSecrets` for a record, keeping its type. */
export function redactRecord(
  record: Readonly<Record<string, unknown>>,
  pattern: RegExp = SECRET_KEY_PATTERN,
): Readonly<Record<string, unknown>> {
  return walk(record, pattern, new Set()) as Readonly<Record<string, unknown>>;
}

function walk(value: unknown, pattern: RegExp, ancestors: Set<object>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.has(value)) return CIRCULAR;
  if (Array.isArray(value)) {
    ancestors.add(value);
    let changed = false;
    const copy = value.map((item: unknown) => {
      const next = walk(item, pattern, ancestors);
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
    // A fresh test per key: a global or sticky pattern would carry lastIndex across keys.
    pattern.lastIndex = 0;
    const next = pattern.test(key) ? REDACTED : walk(item, pattern, ancestors);
    if (next !== item) changed = true;
    copy[key] = next;
  }
  ancestors.delete(value);
  return changed ? copy : value;
}
