export const TERMINATION_REASONS = [
  'IdleTimeout',
  'LifetimeExceeded',
  'StartupTimeout',
  'ManualTermination',
  'JobCompleted',
  'HealthCheckFailed',
  'ProviderError',
] as const;
export type TerminationReason = (typeof TERMINATION_REASONS)[number];

export const CLEANUP_REASONS = [
  'NormalTermination',
  'TtlExpired',
  'OrphanDetected',
  'ForceCleanup',
  'ProviderShutdown',
  'WorkerError',
] as const;
export type CleanupReason = (typeof CLEANUP_REASONS)[number];

/** Who caused an event. */
export const ACTORS = ['api', 'gc', 'watch', 'recovery', 'cli'] as const;
export type Actor = (typeof ACTORS)[number];
