import type { LifecycleManagerDeps } from '../lifecycle/lifecycle-manager.js';
import type { EphemeralWorkerPolicy } from '../policy/policy.js';
import type { Clock } from '../ports/clock.port.js';
import type { IdGenerator } from '../ports/id-generator.port.js';
import { systemClock } from './system-clock.js';
import { UuidV7IdGenerator } from './uuid-v7-id-generator.js';

/** A manager's dependencies with a provider profile's defaults: policy, clock and ids optional. */
export type ProfileManagerDeps = Omit<LifecycleManagerDeps, 'policy' | 'clock' | 'ids'> & {
  /** Default: the profile. */
  readonly policy?: EphemeralWorkerPolicy;
  /** Default: the system clock (or the one given as the default). */
  readonly clock?: Clock;
  /** Default: UUIDv7 event ids on that clock. */
  readonly ids?: IdGenerator;
};

export function withProfile(
  deps: ProfileManagerDeps,
  profile: EphemeralWorkerPolicy,
  defaultClock: Clock = systemClock,
): LifecycleManagerDeps {
  const clock = deps.clock ?? defaultClock;
  return {
    ...deps,
    clock,
    ids: deps.ids ?? new UuidV7IdGenerator(clock),
    policy: deps.policy ?? profile,
  };
}
