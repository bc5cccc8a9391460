/** Counters the server exports as metrics. */
export interface LifecycleCounters {
  transitions: number;
  eventsPublished: number;
  publishFailures: number;
  lostWorkers: number;
  orphansDetected: number;
  /**
   * Throws caught where a port should have returned an error (a publisher or provider that
   * throws): each logged, and the work it broke retried or reported as failed.
   */
  thrown: number;
}

export const newLifecycleCounters = (): LifecycleCounters => ({
  transitions: 0,
  eventsPublished: 0,
  publishFailures: 0,
  lostWorkers: 0,
  orphansDetected: 0,
  thrown: 0,
});
