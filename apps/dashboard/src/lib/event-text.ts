import type { CloudEvent } from '../api/types';
import { formatDuration, formatTime } from './format';

/** `Ready` of `WorkerEphemeralReady`; other types as they are. */
export const shortTypeName = (type: string): string =>
  type.startsWith('WorkerEphemeral') ? type.slice('WorkerEphemeral'.length) : type;

const POLICY_FIELD_SECONDS: Readonly<Record<string, string>> = {
  maxLifetime: 'lifetime',
  ttlAfterCompletion: 'retention',
  idleTimeout: 'idle timeout',
  gracefulTerminationTimeout: 'grace period',
  startupTimeout: 'startup timeout',
  expiryWarning: 'expiry warning',
};

const policyValue = (value: unknown): string =>
  value === null
    ? 'none'
    : typeof value === 'number'
      ? formatDuration(value)
      : JSON.stringify(value);

function changedText(data: Readonly<Record<string, unknown>>): string | null {
  const changed = data['changed'];
  if (!Array.isArray(changed)) return null;
  const previous = (data['previous'] ?? {}) as Record<string, unknown>;
  const current = (data['current'] ?? {}) as Record<string, unknown>;
  return changed
    .map((field) => {
      const key = String(field);
      const name = POLICY_FIELD_SECONDS[key] ?? key;
      return `${name} ${policyValue(previous[key])} → ${policyValue(current[key])}`;
    })
    .join(', ');
}

/** Why an event happened and what it says, in a few words: its reason, rule, error, code. */
export function whyOf(event: CloudEvent): readonly string[] {
  const d = event.data;
  const parts: string[] = [];
  const str = (key: string): string | null => {
    const value = d[key];
    return typeof value === 'string' ? value : null;
  };
  const reason = str('reason');
  if (reason !== null) parts.push(`reason ${reason}`);
  const cleanup = str('cleanupReason');
  if (cleanup !== null) parts.push(`cleanup ${cleanup}`);
  const rule = str('rule');
  if (rule !== null)
    parts.push(`rule ${rule}${str('at') === null ? '' : ` at ${formatTime(str('at') ?? '')}`}`);
  const error = str('error');
  if (error !== null) parts.push(`error: ${error}`);
  if (typeof d['exitCode'] === 'number') parts.push(`exit code ${d['exitCode']}`);
  if (d['forced'] === true) parts.push('forced');
  const changed = changedText(d);
  if (changed !== null) parts.push(`changed ${changed}`);
  const recovered = str('recoveredState');
  if (recovered !== null) parts.push(`recovered as ${recovered}`);
  const lastKnown = str('lastKnownState');
  if (lastKnown !== null) parts.push(`last known ${lastKnown}`);
  const deadline = str('deadlineAt');
  if (deadline !== null) parts.push(`deadline ${formatTime(deadline)}`);
  if (typeof d['cleanupDurationMs'] === 'number')
    parts.push(`cleanup took ${formatDuration(d['cleanupDurationMs'])}`);
  return parts;
}
