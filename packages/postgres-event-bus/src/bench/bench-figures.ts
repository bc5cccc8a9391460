import type { LifecycleEvent } from '@hodei/domain';

/**
 * Busy events of provider `p-bench`, each with an id of its own under `idPrefix` (a bench
 * per prefix, so two benches never share ids) and a time one millisecond after the last.
 */
export function benchEvents(idPrefix: string): (workerId: string) => LifecycleEvent {
  let seq = 0;
  return (workerId) => {
    seq += 1;
    const hex = seq.toString(16).padStart(12, '0');
    return {
      eventId: `${idPrefix}-0000-7000-8000-${hex}`,
      type: 'WorkerEphemeralBusy',
      occurredAt: new Date(Date.UTC(2025, 0, 1) + seq).toISOString(),
      providerId: 'p-bench',
      workerId,
      correlationId: `c-${hex}`,
      actor: 'api',
    };
  };
}

/** Events per second. */
export const rate = (count: number, ms: number): number => Math.round((count / ms) * 1000);

export const stats = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: sorted[0] ?? NaN,
    median: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    max: sorted.at(-1) ?? NaN,
  };
};

/** `min/median/max`. */
export const triple = (values: readonly number[], digits = 0): string => {
  const { min, median, max } = stats(values);
  return `${min.toFixed(digits)}/${median.toFixed(digits)}/${max.toFixed(digits)}`;
};
