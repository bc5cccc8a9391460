import type { IJob, IPod } from '../cluster/cluster-types.js';

/** Bare pods (not made by one of our Jobs) are addressed as `pod/<name>`. */
export const POD_PREFIX = 'pod/';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const TERMINAL: readonly string[] = ['Succeeded', 'Failed'];

export const time = (value: string | undefined): number | null => {
  if (value === undefined) return null;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
};

/** Annotations and labels together, labels winning: ownership is read from both. */
export const mergedLabels = (o: IJob | IPod): Record<string, string> => ({
  ...o.metadata?.annotations,
  ...o.metadata?.labels,
});

export function ownerUid(pod: IPod): string | undefined {
  return pod.metadata?.ownerReferences?.find((r) => r.controller === true)?.uid;
}

export function newest(pods: readonly IPod[]): IPod | undefined {
  return [...pods].sort(
    (a, b) =>
      (time(b.metadata?.creationTimestamp) ?? 0) - (time(a.metadata?.creationTimestamp) ?? 0),
  )[0];
}
