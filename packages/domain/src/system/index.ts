export { systemClock } from './system-clock.js';
export { UuidV7IdGenerator, uuidv7 } from './uuid-v7-id-generator.js';
export { withProfile } from './profile-manager-deps.js';
export type { ProfileManagerDeps } from './profile-manager-deps.js';
export { runnable } from './running-lifecycle.js';
export type {
  LifecyclePassOptions,
  LifecycleStartError,
  RunningLifecycle,
} from './running-lifecycle.js';
export { DeadlinePassTimer } from './deadline-pass-timer.js';
export type { DeadlinePassTimerOptions } from './deadline-pass-timer.js';
