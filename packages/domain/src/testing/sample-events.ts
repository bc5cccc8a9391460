import type { LifecycleEvent } from '../events/lifecycle-event.js';

/** One event of every type, with every field set, for round-trip tests of publishers. */
export function sampleEvents(
  providerId = 'contract',
  workerId = 'contract-worker-1',
): LifecycleEvent[] {
  let n = 0;
  const meta = () => {
    n += 1;
    return {
      eventId: `01890000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
      occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
      providerId,
      correlationId: `corr-${n}`,
      actor: 'api' as const,
    };
  };
  const policy = {
    maxLifetime: 1_800_000,
    ttlAfterCompletion: 120_000,
    idleTimeout: 300_000,
    gracefulTerminationTimeout: 30_000,
    startupTimeout: 120_000,
    expiryWarning: 60_000,
  };
  return [
    {
      ...meta(),
      type: 'WorkerEphemeralCreated',
      workerId,
      mode: 'job',
      image: 'hodei/worker:0.1.0',
      resourceId: 'r-1',
      maxLifetimeSecs: 1800,
      ttlAfterCompletionSecs: 120,
    },
    {
      ...meta(),
      type: 'WorkerEphemeralReady',
      workerId,
      lastActivity: { at: '2025-01-01T00:00:02.000Z', by: 'api' },
    },
    { ...meta(), type: 'WorkerEphemeralBusy', workerId },
    { ...meta(), type: 'WorkerEphemeralIdle', workerId, idleSince: '2025-01-01T00:00:00.000Z' },
    {
      ...meta(),
      type: 'WorkerEphemeralTerminating',
      workerId,
      reason: 'IdleTimeout',
      deadlineAt: '2025-01-01T00:00:04.000Z',
      lastActivity: { at: '2025-01-01T00:00:03.000Z', by: 'dispatcher-1' },
    },
    {
      ...meta(),
      type: 'WorkerEphemeralTerminated',
      workerId,
      exitCode: 0,
      forced: false,
      cleanupScheduled: true,
      ttlExpiresAt: '2025-01-01T00:02:00.000Z',
    },
    { ...meta(), type: 'WorkerEphemeralFailed', workerId, error: 'exited at start' },
    {
      ...meta(),
      type: 'WorkerEphemeralCleanedUp',
      workerId,
      cleanupReason: 'TtlExpired',
      cleanupDurationMs: 12,
      deadlineAt: '2025-01-01T00:00:07.000Z',
    },
    {
      ...meta(),
      type: 'OrphanWorkerDetected',
      resourceId: 'r-2',
      workerId: 'stray-1',
      lastSeen: '2025-01-01T00:00:00.000Z',
      orphanedDurationSecs: 61,
      action: 'reported',
    },
    { ...meta(), type: 'WorkerLost', workerId, resourceId: 'r-1', lastKnownState: 'busy' },
    { ...meta(), type: 'WorkerRecovered', workerId, resourceId: 'r-1', recoveredState: 'ready' },
    {
      ...meta(),
      type: 'GarbageCollectionCompleted',
      workersCleaned: 1,
      orphansDetected: 0,
      errors: 0,
      durationMs: 3,
      lifetimeExceeded: 0,
      idleTimedOut: 1,
      startupTimedOut: 0,
      forceTerminated: 0,
      ttlExpired: 1,
      expiryWarnings: 0,
    },
    {
      ...meta(),
      type: 'WorkerEphemeralPolicyChanged',
      workerId,
      previous: policy,
      current: { ...policy, maxLifetime: 7_200_000 },
      changed: ['maxLifetime'],
    },
    {
      ...meta(),
      type: 'WorkerEphemeralExpiring',
      workerId,
      rule: 'lifetime',
      at: '2025-01-01T02:00:00.000Z',
      lastActivity: { at: '2025-01-01T00:00:03.000Z', by: 'api' },
    },
  ];
}
