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
  /** WorkerEphemeralExpiring warnings the pass emitted. */
  readonly expiryWarnings: number;
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

/**
 * Idle deadline passes are recorded at most this often (a heartbeat): a pass that did
 * nothing is not news, yet a silent log could not tell a quiet provider from a stopped GC.
 */
export const DEFAULT_GC_HEARTBEAT_MS = 5 * 60 * 1000;

/** Whether a pass did anything worth recording: cleaned, ended, warned, found or failed something. */
export const gcPassDidWork = (stats: GarbageCollectionStats): boolean =>
  stats.workersCleaned > 0 ||
  stats.orphansDetected > 0 ||
  stats.errors > 0 ||
  stats.lifetimeExceeded > 0 ||
  stats.idleTimedOut > 0 ||
  stats.startupTimedOut > 0 ||
  stats.forceTerminated > 0 ||
  stats.ttlExpired > 0 ||
  stats.expiryWarnings > 0;

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
  expiryWarnings: 0,
});
