/** What a value is, undefined, NaN, ±Infinity and -0 included (JSON would lose them). */
const fingerprint = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v === undefined || (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)))
      ? `\u0000${Object.is(v, -0) ? '-0' : String(v)}`
      : v,
  );

/**
 * Stored objects carry many values equal to those of the object stored before them: every
 * worker's Job has the same policy annotation, security context and resources, made anew for
 * each. This remembers the last value seen at each place (a label key, a path in a spec) and
 * hands that one out again when an equal one comes, so equal values are kept once. Only for
 * parts the store never changes: whatever leaves the store is a copy anyway.
 */
export class ValueSharing {
  readonly #strings = new Map<string, string>();
  readonly #trees = new Map<string, { readonly print: string; readonly value: object }>();

  /** Label or annotation values equal to the last ones under the same keys become those. */
  strings(values: Record<string, string> | undefined): void {
    if (values === undefined) return;
    for (const key of Object.keys(values)) {
      const value = values[key];
      if (typeof value !== 'string') continue;
      const last = this.#strings.get(key);
      if (last === value) values[key] = last;
      else this.#strings.set(key, value);
    }
  }

  /** The last object seen at `path` when equal to `value`, else `value` (remembered). */
  tree<T extends object>(path: string, value: T): T {
    const print = fingerprint(value);
    const last = this.#trees.get(path);
    if (last !== undefined && last.print === print) return last.value as T;
    this.#trees.set(path, { print, value });
    return value;
  }

  /** Shares, bottom-up, every object and array below `root` (not `root` itself). */
  treesBelow(root: object, path: string): void {
    const record = root as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = record[key];
      if (typeof child !== 'object' || child === null) continue;
      const at = `${path}.${key}`;
      this.treesBelow(child, at);
      record[key] = this.tree(at, child);
    }
  }
}
