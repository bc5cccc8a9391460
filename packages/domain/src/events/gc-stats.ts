/** What one deadline pass did (SPEC §5), also the fields of GarbageCollectionCompleted. */
export interface GarbageCollectionStats {
  readonly workersCleaned: number;
  readonly orphansDetected: number;
  readonly errors: number;
  readonly durationMs: number;
  readonly lifetimeExceeded: number;
  readonly idleTimedOut: number;
  readonly startupTimedOut: number;
  readonly forceTerminated: number;
  readonly ttlExpired: number;
}

/** What one reconciliation pass found. */
export interface ReconcileStats {
  readonly lost: number;
  readonly exited: number;
  readonly started: number;
  readonly orphansDetected: number;
  readonly orphansRemoved: number;
  readonly errors: number;
  readonly durationMs: number;
}

export const emptyGcStats = (): GarbageCollectionStats => ({
  workersCleaned: 0,
  orphansDetected: 0,
  errors: 0,
  durationMs: 0,
  lifetimeExceeded: 0,
  idleTimedOut: 0,
  startupTimedOut: 0,
  forceTerminated: 0,
  ttlExpired: 0,
});
