/** Counters the server exports as metrics. */
export interface LifecycleCounters {
  transitions: number;
  eventsPublished: number;
  publishFailures: number;
  lostWorkers: number;
  orphansDetected: number;
}

export const newLifecycleCounters = (): LifecycleCounters => ({
  transitions: 0,
  eventsPublished: 0,
  publishFailures: 0,
  lostWorkers: 0,
  orphansDetected: 0,
});
