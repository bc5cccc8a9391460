import type { WorkerJson } from './api-types.js';
import { formatSpan } from './format-age.js';

/** The worker JSON's deadlines, in the order `inspect` shows them, with their rule's name. */
const DEADLINES = [
  ['lifetimeAt', 'lifetime'],
  ['idleAt', 'idle'],
  ['startupAt', 'startup'],
  ['forceRemoveAt', 'force remove'],
  ['cleanupAt', 'cleanup'],
  ['expiryWarningAt', 'expiry warning'],
] as const;

/** The rules of `deadlines.next`, as a person reads them. */
const RULE_NAMES: Readonly<Record<string, string>> = {
  lifetime: 'lifetime (LifetimeExceeded)',
  idle: 'idle (IdleTimeout)',
  startup: 'startup (StartupTimeout)',
  forceRemove: 'force remove',
  ttl: 'cleanup (its retention over)',
};

/**
 * "in 4m" (or "in 1h58m", "in 2d3h") for a time to come, "4m ago" for one past (a pass not yet
 * run), `-` for none.
 */
export function relativeTo(iso: string | null | undefined, now: number): string {
  if (iso === null || iso === undefined) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '-';
  return at >= now ? `in ${formatSpan(at - now)}` : `${formatSpan(now - at)} ago`;
}

/** `2026-12-01T00:30:00.000Z (in 4m)`. */
export const timeAndRelative = (iso: string, now: number): string =>
  `${iso} (${relativeTo(iso, now)})`;

/** What stops the worker first: `lifetime (LifetimeExceeded) at … (in 2h)`, or that nothing will. */
export function describeNext(w: WorkerJson, now: number): string {
  const next = w.deadlines.next;
  if (next === null) {
    return w.state === 'terminated' || w.state === 'failed' ? 'none: kept until deleted' : 'none';
  }
  return `${RULE_NAMES[next.rule] ?? next.rule} at ${timeAndRelative(next.at, now)}`;
}

/** The lines of `inspect -o wide` about deadlines and the last activity. */
export function deadlineLines(w: WorkerJson, now: number): string[] {
  const lines = ['Deadlines:'];
  const shown = DEADLINES.filter(([key]) => w.deadlines[key] !== null);
  const pad = Math.max(0, ...shown.map(([, name]) => name.length)) + 2;
  for (const [key, name] of shown) {
    const at = w.deadlines[key];
    if (at !== null) lines.push(`  ${`${name}:`.padEnd(pad)}${timeAndRelative(at, now)}`);
  }
  if (shown.length === 0) lines.push('  none');
  lines.push(`Next: ${describeNext(w, now)}`);
  const last = w.lastActivity;
  lines.push(
    `Last activity: ${last === null ? '-' : `${last.at} (${relativeTo(last.at, now)}) by ${last.by}`}`,
  );
  return lines;
}
