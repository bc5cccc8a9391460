import { pino } from 'pino';

/**
 * Keys whose values never reach a log line: tokens, passwords, secrets, the `Authorization`
 * header and anything `auth` (`registryAuth`, Docker's `authconfig`), cookies, tickets,
 * credentials, API and private keys.
 */
export const SECRET_KEY_PATTERN =
  /token|passw(or)?d|secret|auth|cookie|ticket|credential|api[-_]?key|private[-_]?key/i;

export const REDACTED = '[Redacted]';

const CIRCULAR = '[Circular]';

/** The prototype of what pino's error serializer returns (`serializeErrors` makes those). */
const SERIALIZED_ERROR = Object.getPrototypeOf(pino.stdSerializers.err(new Error())) as object;

const isPlainObject = (value: object): value is Record<string, unknown> => {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** A serialized error keeps its prototype (its `raw`), so pino writes the copy as the original. */
const isSerializedError = (value: object): value is Record<string, unknown> =>
  Object.getPrototypeOf(value) === SERIALIZED_ERROR;

/**
 * Replaces the value of every key matching `pattern`, at any depth of plain objects, arrays,
 * errors (their own fields: `config.headers.Authorization` of an HTTP client's error) and
 * errors as pino serializes them. An error with a secret inside becomes a serialized error.
 * Returns the input itself when nothing matched, a copy otherwise; never mutates.
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
  if (value instanceof Error) {
    const serialized = pino.stdSerializers.err(value) as unknown as Record<string, unknown>;
    ancestors.add(value);
    const next = walkFields(serialized, pattern, ancestors);
    ancestors.delete(value);
    return next === serialized ? value : next;
  }
  if (!isPlainObject(value) && !isSerializedError(value)) return value;
  ancestors.add(value);
  const next = walkFields(value, pattern, ancestors);
  ancestors.delete(value);
  return next;
}

/** The object itself when no field changed, else a copy with the same prototype. */
function walkFields(
  value: Record<string, unknown>,
  pattern: RegExp,
  ancestors: Set<object>,
): Record<string, unknown> {
  let changed = false;
  const copy = Object.create(Object.getPrototypeOf(value) as object | null) as Record<
    string,
    unknown
  >;
  for (const [key, item] of Object.entries(value)) {
    // A fresh test per key: a global or sticky pattern would carry lastIndex across keys.
    pattern.lastIndex = 0;
    const next = pattern.test(key) ? REDACTED : walk(item, pattern, ancestors);
    if (next !== item) changed = true;
    copy[key] = next;
  }
  return changed ? copy : value;
}
