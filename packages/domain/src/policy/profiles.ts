import type { EphemeralWorkerPolicy } from './policy.js';

/** The default `expiryWarning` of every profile. */
export const DEFAULT_EXPIRY_WARNING = 60_000;

const s = (seconds: number): number => seconds * 1_000;

/** The seed's Docker table (SPEC §3.4). */
export const dockerProfile: EphemeralWorkerPolicy = Object.freeze({
  maxLifetime: s(1800),
  ttlAfterCompletion: s(120),
  idleTimeout: s(300),
  gracefulTerminationTimeout: s(30),
  startupTimeout: s(120),
  autoCleanupEnabled: true,
  orphanDetectionEnabled: false,
  orphanCheckInterval: s(300),
  orphanGracePeriod: s(60),
  orphanAction: 'report',
  expiryWarning: s(60),
});

/** The original integration plan's Kubernetes values (SPEC §3.4). */
export const kubernetesProfile: EphemeralWorkerPolicy = Object.freeze({
  maxLifetime: s(3600),
  ttlAfterCompletion: s(300),
  idleTimeout: s(600),
  gracefulTerminationTimeout: s(30),
  startupTimeout: s(300),
  autoCleanupEnabled: true,
  orphanDetectionEnabled: true,
  orphanCheckInterval: s(60),
  orphanGracePeriod: s(60),
  orphanAction: 'report',
  expiryWarning: s(60),
});

export const PROFILES = { docker: dockerProfile, kubernetes: kubernetesProfile } as const;
export type ProfileName = keyof typeof PROFILES;
