import type { GarbageCollectionStats, ReconcileStats } from '@hodei/domain';

/** Told the outcome of every pass that succeeded, scheduled or on demand (for the metrics). */
export interface PassObserver {
  gc(provider: string, stats: GarbageCollectionStats): void;
  reconcile(provider: string, stats: ReconcileStats): void;
}
