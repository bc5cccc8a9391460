import { retentionOf } from '../policy/policy.js';
import type { Worker } from '../worker/worker.js';

/** Slack after the graceful timeout before a terminating worker is force-removed (SPEC §5). */
export const FORCE_REMOVE_MARGIN = 30_000;

/** The deadline-pass rules (SPEC §5), in the order they are tried. */
export type DueRule = 'lifetime' | 'idle' | 'startup' | 'forceRemove' | 'ttl';

/** The rules a WorkerEphemeralExpiring warns of: the terminations. */
export type ExpiryRule = 'lifetime' | 'idle';

const RULES: readonly DueRule[] = ['lifetime', 'idle', 'startup', 'forceRemove', 'ttl'];

/** The worker's deadlines (epoch ms), each `null` where its rule cannot apply in its state. */
export interface DeadlineExplanation {
  readonly lifetimeAt: number | null;
  readonly idleAt: number | null;
  readonly startupAt: number | null;
  readonly forceRemoveAt: number | null;
  readonly cleanupAt: number | null;
  /** When the next WorkerEphemeralExpiring is due, if one is. */
  readonly expiryWarningAt: number | null;
  /** The rule that will act first and when: the one `dueRule` gives at that time. */
  readonly next: { readonly rule: DueRule; readonly at: number } | null;
}

/** A WorkerEphemeralExpiring the worker is owed: of `rule`'s `deadline`, due `at`. */
export interface ExpiryWarning {
  readonly rule: ExpiryRule;
  readonly deadline: number;
  readonly at: number;
}

const isLive = (w: Worker): boolean =>
  w.state === 'creating' || w.state === 'ready' || w.state === 'busy';

const idleApplies = (w: Worker): boolean => w.mode === 'agent' && w.state === 'ready';

/**
 * The one place the rules' maths lives: the deadline of `rule` for the worker in its current
 * state, `null` where the rule cannot apply.
 */
export function ruleDeadline(w: Worker, rule: DueRule): number | null {
  switch (rule) {
    case 'lifetime':
      return isLive(w) ? w.createdAt + w.policy.maxLifetime : null;
    case 'idle':
      return idleApplies(w) ? w.lastActivityAt + w.policy.idleTimeout : null;
    case 'startup':
      return w.state === 'creating' ? w.createdAt + w.policy.startupTimeout : null;
    case 'forceRemove':
      return w.state === 'terminating'
        ? (w.terminatingAt ?? w.createdAt) +
            w.policy.gracefulTerminationTimeout +
            FORCE_REMOVE_MARGIN
        : null;
    case 'ttl':
      return (w.state === 'terminated' || w.state === 'failed') && w.policy.autoCleanupEnabled
        ? (w.terminatedAt ?? w.createdAt) + retentionOf(w.policy)
        : null;
  }
}

/**
 * The termination deadline a warning is about: the earlier of lifetime and (ready agent)
 * idle, lifetime on a tie as `dueRule` has it. Only that one: the later cannot act unless the
 * earlier moves past it, and then it is the earlier and is warned in its turn.
 */
function expiryRuleOf(w: Worker): ExpiryRule | null {
  const lifetime = ruleDeadline(w, 'lifetime');
  if (lifetime === null) return null;
  const idle = ruleDeadline(w, 'idle');
  return idle !== null && idle < lifetime ? 'idle' : 'lifetime';
}

/** The earliest time any rule acts, `null` if none applies. */
function firstRuleAt(w: Worker): number | null {
  // On every store: no allocation.
  let next: number | null = null;
  for (const rule of RULES) {
    const at = ruleDeadline(w, rule);
    if (at !== null && (next === null || at < next)) next = at;
  }
  return next;
}

/**
 * When the worker's next WorkerEphemeralExpiring is due, `null` if it is owed none: the
 * deadline that acts first, not warned of yet (each rule remembers its own), warned
 * strictly after its clock started (a warning as long as the timeout would come with the
 * clock's start: none), and before any rule acts (the pass sends none once one is due).
 */
function expiryWarningAt(w: Worker, firstAt: number | null): number | null {
  if (w.policy.expiryWarning <= 0) return null;
  const rule = expiryRuleOf(w);
  if (rule === null) return null;
  const deadline = ruleDeadline(w, rule);
  if (deadline === null) return null;
  const warned = rule === 'lifetime' ? w.lifetimeWarnedFor : w.idleWarnedFor;
  if (deadline === warned) return null;
  const at = deadline - w.policy.expiryWarning;
  const clockStart = rule === 'lifetime' ? w.createdAt : w.lastActivityAt;
  if (at <= clockStart || (firstAt !== null && at >= firstAt)) return null;
  return at;
}

/** The rule that acts first (ties to the earlier rule) and when; `null` if none applies. */
function firstRule(w: Worker): { readonly rule: DueRule; readonly at: number } | null {
  let next: { rule: DueRule; at: number } | null = null;
  for (const rule of RULES) {
    const at = ruleDeadline(w, rule);
    if (at !== null && (next === null || at < next.at)) next = { rule, at };
  }
  return next;
}

/** When the worker next needs the deadline pass (a rule or a warning), `null` if never by itself. */
export function nextDeadline(w: Worker): number | null {
  const next = firstRuleAt(w);
  // Always before `next` when there is one.
  return expiryWarningAt(w, next) ?? next;
}

/** The first rule that applies to the worker at `now`, if any. */
export function dueRule(w: Worker, now: number): DueRule | null {
  for (const rule of RULES) {
    const at = ruleDeadline(w, rule);
    if (at !== null && now >= at) return rule;
  }
  return null;
}

/** The warning due at `now`, if any: none once a rule is due, which acts without one. */
export function dueExpiryWarning(w: Worker, now: number): ExpiryWarning | null {
  const at = expiryWarningAt(w, firstRuleAt(w));
  if (at === null || now < at || dueRule(w, now) !== null) return null;
  const rule = expiryRuleOf(w);
  const deadline = rule === null ? null : ruleDeadline(w, rule);
  return rule === null || deadline === null ? null : { rule, deadline, at };
}

/**
 * Why and when the worker will stop, from the same maths the deadline pass acts on. With
 * `now`, a warning is named only while no rule is due at `now` (the pass would apply the
 * rule instead).
 */
export function explainDeadlines(w: Worker, now?: number): DeadlineExplanation {
  const next = firstRule(w);
  const warningAt = expiryWarningAt(w, next?.at ?? null);
  return {
    lifetimeAt: ruleDeadline(w, 'lifetime'),
    idleAt: ruleDeadline(w, 'idle'),
    startupAt: ruleDeadline(w, 'startup'),
    forceRemoveAt: ruleDeadline(w, 'forceRemove'),
    cleanupAt: ruleDeadline(w, 'ttl'),
    expiryWarningAt: now !== undefined && next !== null && now >= next.at ? null : warningAt,
    next,
  };
}
