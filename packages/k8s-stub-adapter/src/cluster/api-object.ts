import type { IJob, ObjectMeta } from './cluster-types.js';

type JobCondition = NonNullable<NonNullable<IJob['status']>['conditions']>[number];

/** The phases a pod never leaves. */
export const TERMINAL: readonly string[] = ['Succeeded', 'Failed'];
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The last few instants written as ISO strings (a pass writes a handful, over and over). */
const recentIso = new Map<number, string>();

/** The ISO time; the same instant gives the same string (stored once, not once per object). */
export const iso = (ms: number): string => {
  let text = recentIso.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (recentIso.size >= 8) recentIso.clear();
    recentIso.set(ms, text);
  }
  return text;
};

export const ms = (time: string | undefined): number | null => {
  if (time === undefined) return null;
  const parsed = Date.parse(time);
  return Number.isNaN(parsed) ? null : parsed;
};

/**
 * Every object leaves the store as a copy, as over the wire. The objects are JSON data:
 * plain objects, arrays and primitives. Strings are shared, not copied (they are immutable),
 * which keeps the copies a pod makes of its Job's template small; `structuredClone` would
 * duplicate every string.
 */
export const clone = <T>(value: T): T => copyValue(value) as T;

function copyValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol')
      throw new DOMException(`${String(value)} could not be cloned.`, 'DataCloneError');
    return value;
  }
  if (Array.isArray(value)) return value.map(copyValue);
  if (value instanceof Date) return new Date(value.getTime());
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value))
    copy[key] = copyValue((value as Record<string, unknown>)[key]);
  return copy;
}

/**
 * `{ ...base, ...extra }`, built key by key: spreads gave each stored object its own hidden
 * class (100 bytes and more apiece); this keeps one per shape. Same keys, same order.
 */
export function extend<T extends object>(base: T | undefined, extra: Partial<T>): T {
  const out: Record<string, unknown> = {};
  if (base !== undefined)
    for (const key of Object.keys(base)) out[key] = (base as Record<string, unknown>)[key];
  for (const key of Object.keys(extra)) out[key] = (extra as Record<string, unknown>)[key];
  return out as T;
}

export const meta = (o: { metadata?: ObjectMeta }): ObjectMeta => (o.metadata ??= {});

/** The Complete or Failed condition of a finished Job. */
export function finishedCondition(job: IJob): JobCondition | undefined {
  return job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}
