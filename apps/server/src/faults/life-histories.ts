import type { AcknowledgedOperation } from './churn.js';

/** One row of `hodei.events`, as the checker reads it. */
export interface LoggedEvent {
  readonly eventId: string;
  readonly type: string;
  readonly streamId: string;
  readonly streamPosition: number;
  readonly globalPosition: number;
  /** The event's `time` (ISO 8601), when the reader selected it. */
  readonly time?: string;
  readonly data: Record<string, unknown>;
}

/** One life of a worker id: the events of one resource, in log order. */
export interface Life {
  readonly workerId: string;
  readonly resourceId: string;
  readonly events: readonly LoggedEvent[];
}

/** A broken promise, for the report: which worker or event and what is wrong. */
export interface Finding {
  readonly subject: string;
  readonly problem: string;
}

/**
 * A life's end: at most one of these. WorkerLost is not one: it reports the resource gone
 * behind our back, before the end (removed while running: Lost, then Terminated) or after it
 * (removed once it had exited: Terminated, then Lost).
 */
const TERMINAL = new Set(['WorkerEphemeralTerminated', 'WorkerEphemeralFailed']);
const LOST = 'WorkerLost';
const CLEANED = 'WorkerEphemeralCleanedUp';
/** A Terminated for one of these reasons is the container's own exit: its code is known. */
const OWN_EXIT = new Set([undefined, 'JobCompleted', 'ProviderError']);

/** Events of worker streams, by worker id, in log order. */
function byWorker(events: readonly LoggedEvent[]): Map<string, LoggedEvent[]> {
  const streams = new Map<string, LoggedEvent[]>();
  for (const e of events) {
    if (!e.streamId.startsWith('worker:')) continue;
    const id = e.streamId.slice('worker:'.length);
    const list = streams.get(id) ?? [];
    list.push(e);
    streams.set(id, list);
  }
  return streams;
}

/**
 * Splits each worker's stream into lives by the events' `resourceId`. A life that comes back
 * after another began, or an event without a resource, is a finding.
 */
export function livesOf(events: readonly LoggedEvent[]): { lives: Life[]; findings: Finding[] } {
  const lives: Life[] = [];
  const findings: Finding[] = [];
  for (const [workerId, stream] of byWorker(events)) {
    let current: { resourceId: string; events: LoggedEvent[] } | undefined;
    const seen = new Set<string>();
    for (const e of stream) {
      const resourceId = typeof e.data['resourceId'] === 'string' ? e.data['resourceId'] : '';
      if (resourceId === '') {
        findings.push({ subject: workerId, problem: `${e.type} without a resourceId` });
        continue;
      }
      if (current?.resourceId === resourceId) {
        current.events.push(e);
        continue;
      }
      if (seen.has(resourceId)) {
        findings.push({ subject: workerId, problem: `life ${resourceId} resumes after another` });
      }
      seen.add(resourceId);
      current = { resourceId, events: [e] };
      lives.push({ workerId, resourceId, events: current.events });
    }
  }
  return { lives, findings };
}

/**
 * What is wrong with one life (item 5e): it starts with Created, has at most one terminal
 * event (Terminated or Failed), at most one WorkerLost, at most one CleanedUp (nothing after
 * it), a job's own exit records its code, and a life no longer tracked has ended (CleanedUp or
 * Lost).
 */
export function lifeProblems(life: Life, tracked: boolean): string[] {
  const problems: string[] = [];
  const types = life.events.map((e) => e.type);
  if (types[0] !== 'WorkerEphemeralCreated') {
    problems.push(`starts with ${types[0] ?? 'nothing'}, not WorkerEphemeralCreated`);
  }
  const terminals = types.filter((t) => TERMINAL.has(t));
  if (terminals.length > 1) {
    problems.push(`${terminals.length} terminal events: ${types.join(' → ')}`);
  }
  const lost = types.filter((t) => t === LOST).length;
  if (lost > 1) problems.push(`${lost} WorkerLost: ${types.join(' → ')}`);
  const cleaned = types.filter((t) => t === CLEANED).length;
  if (cleaned > 1) problems.push(`${cleaned} CleanedUp`);
  if (cleaned === 1 && types.at(-1) !== CLEANED) problems.push(`${types.at(-1)} after CleanedUp`);
  const mode = life.events[0]?.data['mode'];
  // After a WorkerLost the container is gone: its Terminated cannot know an exit code.
  const lostAt = types.indexOf(LOST);
  for (const [i, e] of life.events.entries()) {
    if (e.type !== 'WorkerEphemeralTerminated' || mode !== 'job') continue;
    if (lostAt >= 0 && lostAt < i) continue;
    if (OWN_EXIT.has(e.data['reason'] as string | undefined) && e.data['exitCode'] === null) {
      problems.push(`Terminated (${String(e.data['reason'])}) without the exit code`);
    }
  }
  if (!tracked && cleaned === 0 && lost === 0) {
    problems.push(`untracked but never ended: ${types.join(' → ')}`);
  }
  return problems;
}

/** Duplicate event ids, and streams whose positions do not follow the log's order 1 by 1. */
export function orderFindings(events: readonly LoggedEvent[]): {
  duplicates: Finding[];
  order: Finding[];
} {
  const ids = new Set<string>();
  const duplicates: Finding[] = [];
  const last = new Map<string, number>();
  const order: Finding[] = [];
  for (const e of [...events].sort((a, b) => a.globalPosition - b.globalPosition)) {
    if (ids.has(e.eventId)) duplicates.push({ subject: e.eventId, problem: `twice (${e.type})` });
    ids.add(e.eventId);
    const before = last.get(e.streamId);
    if (before !== undefined && e.streamPosition !== before + 1) {
      order.push({
        subject: e.streamId,
        problem: `position ${e.streamPosition} after ${before} (${e.type})`,
      });
    }
    last.set(e.streamId, e.streamPosition);
  }
  return { duplicates, order };
}

const EVENT_OF: Record<AcknowledgedOperation['kind'], readonly string[]> = {
  create: ['WorkerEphemeralCreated'],
  ready: ['WorkerEphemeralReady'],
  busy: ['WorkerEphemeralBusy'],
  delete: ['WorkerEphemeralTerminating', 'WorkerEphemeralTerminated', CLEANED, LOST],
};

/**
 * Acknowledged operations whose event is missing from the log: a 201 create without its
 * Created, a ready or busy without its event, a delete without the end of that life (its
 * CleanedUp, unless the worker is still tracked, waiting out its TTL).
 */
export function lostEvents(
  acknowledged: readonly AcknowledgedOperation[],
  lives: readonly Life[],
  trackedResources: ReadonlySet<string>,
): Finding[] {
  const findings: Finding[] = [];
  for (const op of acknowledged) {
    const candidates = lives.filter(
      (l) =>
        l.workerId === op.workerId &&
        (op.resourceId === undefined || l.resourceId === op.resourceId),
    );
    const types = new Set(candidates.flatMap((l) => l.events.map((e) => e.type)));
    const subject = `${op.workerId}/${op.resourceId ?? '?'}`;
    if (!EVENT_OF[op.kind].some((t) => types.has(t))) {
      findings.push({ subject, problem: `${op.kind} (${op.status}) without its event` });
      continue;
    }
    const stillTracked = op.resourceId !== undefined && trackedResources.has(op.resourceId);
    if (op.kind === 'delete' && !stillTracked && !types.has(CLEANED) && !types.has(LOST)) {
      findings.push({ subject, problem: `delete (${op.status}) without its CleanedUp` });
    }
  }
  return findings;
}

/** A container a scenario removed behind the server's back (the removal succeeded). */
export interface Removal {
  readonly resourceId: string;
  /** When the removal returned, in ms since the epoch. */
  readonly doneAt: number;
}

/** The server's own tolerance: a finished resource gone this close to its retention end is not lost. */
const RETENTION_END_TOLERANCE_MS = 2_000;

const timeOf = (e: LoggedEvent): number => (e.time === undefined ? NaN : Date.parse(e.time));

/**
 * Why a removal is rightly not reported as lost, or undefined if it must be. The server was
 * ending the life itself (its Terminating: a DELETE or a GC stop in flight), it was removing
 * the finished worker's container itself (its CleanedUp came before the removal was seen), or the removal
 * came while the retention was ending (within 2 s of its `ttlExpiresAt`: the TTL cleanup's
 * race). `slackMs` covers the time between the removal and the server's observing it.
 */
export function excuseOf(removal: Removal, life: Life, slackMs = 1_500): string | undefined {
  const seenBy = removal.doneAt + slackMs;
  const terminating = life.events.find((e) => e.type === 'WorkerEphemeralTerminating');
  if (terminating !== undefined && timeOf(terminating) <= seenBy) return 'terminating';
  // The server removed it itself at the same moment (a DELETE of the finished worker): its
  // cleanup came before the removal was seen, so the absence was its own.
  const cleaned = life.events.find((e) => e.type === 'WorkerEphemeralCleanedUp');
  if (cleaned !== undefined && timeOf(cleaned) <= seenBy) return 'cleaned up';
  const ended = life.events.find((e) => e.type === 'WorkerEphemeralTerminated');
  const ttl = ended?.data['ttlExpiresAt'];
  if (typeof ttl === 'string' && Date.parse(ttl) - RETENTION_END_TOLERANCE_MS <= seenBy) {
    return 'retention ending';
  }
  return undefined;
}

/**
 * Removals behind the server's back that its log does not report as WorkerLost (item 4),
 * leaving out the races where not reporting is right (see `excuseOf`).
 */
export function unreportedRemovals(
  removals: readonly Removal[],
  lives: readonly Life[],
  slackMs = 1_500,
): Finding[] {
  const findings: Finding[] = [];
  for (const removal of removals) {
    const life = lives.find(
      (l) =>
        l.resourceId.startsWith(removal.resourceId) || removal.resourceId.startsWith(l.resourceId),
    );
    const subject = removal.resourceId.slice(0, 12);
    if (life === undefined) {
      findings.push({ subject, problem: 'removed, but no life in the log' });
      continue;
    }
    if (life.events.some((e) => e.type === LOST)) continue;
    if (excuseOf(removal, life, slackMs) !== undefined) continue;
    const types = life.events.map((e) => `${e.type}@${e.time ?? '?'}`);
    findings.push({
      subject: `${life.workerId}/${subject}`,
      problem: `removed at ${new Date(removal.doneAt).toISOString()} without WorkerLost: ${types.join(' → ')}`,
    });
  }
  return findings;
}
