import type { LifecycleEvent, LifecycleEventType } from '@hodei/domain';
import type { Level } from 'pino';

/** The pino level an event is written at. */
export type EventLogLevel = Level;

/**
 * SPEC §7 fixes info for create, debug for ready, warn for orphans and lost workers; the rest
 * follow the same idea: routine state changes at debug, a worker's birth and end at info,
 * anything an operator should look at at warn, a failed worker at error.
 */
export const DEFAULT_EVENT_LEVELS: Readonly<Record<LifecycleEventType, EventLogLevel>> = {
  WorkerEphemeralCreated: 'info',
  WorkerEphemeralReady: 'debug',
  WorkerEphemeralBusy: 'debug',
  WorkerEphemeralIdle: 'info',
  WorkerEphemeralTerminating: 'info',
  WorkerEphemeralTerminated: 'info',
  WorkerEphemeralFailed: 'error',
  WorkerEphemeralCleanedUp: 'info',
  OrphanWorkerDetected: 'warn',
  WorkerLost: 'warn',
  WorkerRecovered: 'info',
  GarbageCollectionCompleted: 'debug',
  WorkerEphemeralPolicyChanged: 'info',
  WorkerEphemeralExpiring: 'info',
};

export type EventLevelOverrides = Readonly<Partial<Record<LifecycleEventType, EventLogLevel>>>;

/**
 * The level for one event: an override if given, else the default — except that a GC pass
 * that reported errors is raised to warn (a clean pass every tick stays at debug).
 */
export function levelOfEvent(
  event: LifecycleEvent,
  overrides: EventLevelOverrides = {},
): EventLogLevel {
  const override = overrides[event.type];
  if (override !== undefined) return override;
  if (event.type === 'GarbageCollectionCompleted' && event.errors > 0) return 'warn';
  return DEFAULT_EVENT_LEVELS[event.type];
}
