/**
 * Query values are text on the wire, and Ajv runs with `coerceTypes: false`: `?limit=10` is
 * checked as the string `"10"` against a pattern, which also refuses what coercion would let
 * through (`010`, `1e1`, `0x0a`, ` 10`). The document says what the text spells, an integer or
 * a boolean, so a generated client types it as such; each runtime schema carries its
 * documented form here, and `documentedQuerystring` swaps it in when the document is built.
 */

type Schema = Readonly<Record<string, unknown>>;

const documented = new WeakMap<object, Schema>();

/** `runtime` as validated, documented as `documentedAs`. */
function textOf<T extends object>(runtime: T, documentedAs: Schema): T {
  documented.set(runtime, documentedAs);
  return runtime;
}

/** The problem message of each integer pattern: Ajv's would quote the pattern, a regex. */
const integerMessages = new Map<string, string>();

/** `must be a whole number from 1 to 1000` for a pattern of `integerText`, else undefined. */
export const integerTextMessage = (pattern: unknown): string | undefined =>
  typeof pattern === 'string' ? integerMessages.get(pattern) : undefined;

/** A whole number in `[minimum, maximum]` written as decimal digits matching `pattern`. */
export const integerText = (o: {
  readonly pattern: string;
  readonly minimum: number;
  readonly maximum: number;
  readonly default?: number;
  readonly description: string;
}) => {
  integerMessages.set(o.pattern, `must be a whole number from ${o.minimum} to ${o.maximum}`);
  return textOf({ type: 'string', pattern: o.pattern, description: o.description } as const, {
    type: 'integer',
    minimum: o.minimum,
    maximum: o.maximum,
    ...(o.default === undefined ? {} : { default: o.default }),
    description: o.description,
  });
};

/** `true` or `false`; absent means false. */
export const booleanText = (description: string) =>
  textOf({ type: 'string', enum: ['true', 'false'], description } as const, {
    type: 'boolean',
    default: false,
    description,
  });

/** A runtime schema with a documented form of its own (`tail`: a count or `all`). */
export const documentedText = <T extends object>(runtime: T, documentedAs: Schema): T =>
  textOf(runtime, documentedAs);

/** A route's querystring schema with each property in its documented form. */
export function documentedQuerystring(querystring: Schema): Schema {
  const properties = querystring['properties'];
  if (typeof properties !== 'object' || properties === null) return querystring;
  return {
    ...querystring,
    properties: Object.fromEntries(
      Object.entries(properties as Record<string, object>).map(([name, schema]) => [
        name,
        documented.get(schema) ?? schema,
      ]),
    ),
  };
}
