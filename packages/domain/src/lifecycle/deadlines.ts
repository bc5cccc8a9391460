import { retentionOf } from '../policy/policy.js';
import type { Worker } from '../worker/worker.js';

/** Slack after the graceful timeout before a terminating worker is force-removed (SPEC §5). */
export const FORCE_REMOVE_MARGIN = 30_000;

/** The deadline-pass rules (SPEC §5), in the order they are tried. */
export type DueRule = 'lifetime' | 'idle' | 'startup' | 'forceRemove' | 'ttl';

const lifetimeAt = (w: Worker): number => w.createdAt + w.policy.maxLifetime;
const idleAt = (w: Worker): number => w.lastActivityAt + w.policy.idleTimeout;
const startupAt = (w: Worker): number => w.createdAt + w.policy.startupTimeout;
const forceAt = (w: Worker): number =>
  (w.terminatingAt ?? w.createdAt) + w.policy.gracefulTerminationTimeout + FORCE_REMOVE_MARGIN;
const ttlAt = (w: Worker): number => (w.terminatedAt ?? w.createdAt) + retentionOf(w.policy);

const idleApplies = (w: Worker): boolean => w.mode === 'agent' && w.state === 'ready';

/** When the worker next needs the deadline pass, or `null` when it never will by itself. */
export function nextDeadline(w: Worker): number | null {
  switch (w.state) {
    case 'creating':
      return Math.min(lifetimeAt(w), startupAt(w));
    case 'ready':
    case 'busy':
      return idleApplies(w) ? Math.min(lifetimeAt(w), idleAt(w)) : lifetimeAt(w);
    case 'terminating':
      return forceAt(w);
    case 'terminated':
    case 'failed':
      return w.policy.autoCleanupEnabled ? ttlAt(w) : null;
  }
}

/** The first rule that applies to the worker at `now`, if any. */
export function dueRule(w: Worker, now: number): DueRule | null {
  const live = w.state === 'creating' || w.state === 'ready' || w.state === 'busy';
  if (live && now >= lifetimeAt(w)) return 'lifetime';
  if (idleApplies(w) && now >= idleAt(w)) return 'idle';
  if (w.state === 'creating' && now >= startupAt(w)) return 'startup';
  if (w.state === 'terminating' && now >= forceAt(w)) return 'forceRemove';
  if (
    (w.state === 'terminated' || w.state === 'failed') &&
    w.policy.autoCleanupEnabled &&
    now >= ttlAt(w)
  ) {
    return 'ttl';
  }
  return null;
}
