import type { IJob, ObjectMeta } from './cluster-types.js';

type JobCondition = NonNullable<NonNullable<IJob['status']>['conditions']>[number];

/** The phases a pod never leaves. */
export const TERMINAL: readonly string[] = ['Succeeded', 'Failed'];
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const iso = (ms: number): string => new Date(ms).toISOString();

export const ms = (time: string | undefined): number | null => {
  if (time === undefined) return null;
  const parsed = Date.parse(time);
  return Number.isNaN(parsed) ? null : parsed;
};

/** Every object leaves the store as a copy, as over the wire. */
export const clone = <T>(value: T): T => structuredClone(value);

export const meta = (o: { metadata?: ObjectMeta }): ObjectMeta => (o.metadata ??= {});

/** The Complete or Failed condition of a finished Job. */
export function finishedCondition(job: IJob): JobCondition | undefined {
  return job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}
