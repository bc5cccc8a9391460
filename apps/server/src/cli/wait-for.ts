import { err, ok, type Result } from 'neverthrow';
import {
  shortType,
  TERMINAL_STATES,
  type CloudEventJson,
  type HistoryJson,
  type WorkerJson,
} from './api-types.js';
import type { HodeiClient } from './client.js';
import { describeClientError, type ClientError } from './client.errors.js';
import { deadlineOf, withDeadline, type Deadline } from './deadline.js';
import { connectEventFeed, isTransient, type FeedItem } from './event-feed.js';
import { formatAge } from './format-age.js';

/** What `hodei wait --for` waits for. */
export const WAIT_CONDITIONS = ['ready', 'terminated', 'cleaned'] as const;
export type WaitCondition = (typeof WAIT_CONDITIONS)[number];
/** Also `started`: ready, or ended without being ready; its logs can be read either way. */
export type WaitTarget = WaitCondition | 'started';

export type WaitError =
  | ClientError
  | {
      readonly type: 'WaitTimedOut';
      readonly workerId: string;
      readonly target: WaitTarget;
      readonly timeoutMs: number;
      readonly lastState: string | undefined;
    }
  | { readonly type: 'ConditionUnreachable'; readonly message: string };

export function describeWaitError(e: WaitError): string {
  switch (e.type) {
    case 'WaitTimedOut':
      return `timed out after ${formatAge(e.timeoutMs)} waiting for worker ${e.workerId} to be ${e.target}${e.lastState === undefined ? '' : ` (it is ${e.lastState})`}`;
    case 'ConditionUnreachable':
      return e.message;
    default:
      return describeClientError(e);
  }
}

export interface WaitOutcome {
  /** The worker when the condition held; `null` once it is gone. */
  readonly worker: WorkerJson | null;
  /** Its exit code, from the worker or from its Terminated event. */
  readonly exitCode: number | null;
  /** The short type of the last event of the worker seen (from its history once it is gone). */
  readonly lastEvent: string | undefined;
}

/** What `-o json` prints for a worker the server no longer has (its history says the rest). */
export interface GoneWorkerJson {
  readonly id: string;
  readonly state: 'gone';
  readonly exitCode: number | null;
  readonly lastEvent: string | null;
}

/** The worker's JSON when the wait ended, or what is known of it once it is gone. */
export const outcomeJson = (workerId: string, o: WaitOutcome): WorkerJson | GoneWorkerJson =>
  o.worker ?? { id: workerId, state: 'gone', exitCode: o.exitCode, lastEvent: o.lastEvent ?? null };

export interface WaitOptions {
  /** When to give up: one deadline for the whole command (default: none). */
  readonly deadline?: Deadline;
  /** Each event of the worker while waiting: progress for stderr. */
  readonly onEvent?: (event: CloudEventJson) => void;
  readonly notice?: (message: string) => void;
  /** The worker is read again at least this often, events or not (default 2 s). */
  readonly pollMs?: number;
}

/** What the events said so far. */
interface Seen {
  worker: boolean;
  ready: boolean;
  cleaned: boolean;
  exitCode: number | null | undefined;
  lastEvent: string | undefined;
}

type Check =
  | { readonly kind: 'met'; readonly outcome: WaitOutcome }
  | { readonly kind: 'pending'; readonly state: string | undefined }
  | { readonly kind: 'unreachable'; readonly message: string };

const met = (worker: WorkerJson | null, exitCode: number | null, seen: Seen): Check => ({
  kind: 'met',
  outcome: { worker, exitCode, lastEvent: seen.lastEvent },
});

const firstLine = (e: ClientError): string => describeClientError(e).split('\n')[0] ?? e.type;

/**
 * Waits until the worker is ready, terminated or cleaned up. It subscribes to the worker's
 * events first and only then reads the worker, so nothing that happens in between is
 * missed; it reads the worker again on every event, and every `pollMs` whatever happens.
 * Every request gets the time left before the deadline. While the server cannot be reached
 * (or answers 502/503: it restarts) the condition is still pending; a refused token or a
 * worker that never existed ends the wait.
 */
export async function waitFor(
  client: HodeiClient,
  workerId: string,
  target: WaitTarget,
  o: WaitOptions = {},
): Promise<Result<WaitOutcome, WaitError>> {
  const deadline = o.deadline ?? deadlineOf(undefined);
  const timedOut = (lastState: string | undefined): Result<never, WaitError> =>
    err({ type: 'WaitTimedOut', workerId, target, timeoutMs: deadline.timeoutMs ?? 0, lastState });
  const controller = new AbortController();
  const feedSignal = withDeadline(controller.signal, deadline);
  const feed = await connectEventFeed(
    client,
    { workerId },
    { signal: feedSignal, ...(o.notice === undefined ? {} : { notice: o.notice }) },
  );
  if (feed.isErr()) return feedSignal.aborted ? timedOut(undefined) : err(feed.error);
  const iterator = feed.value[Symbol.asyncIterator]();
  const seen: Seen = {
    worker: false,
    ready: false,
    cleaned: false,
    exitCode: undefined,
    lastEvent: undefined,
  };
  let next: Promise<IteratorResult<FeedItem>> | undefined = iterator.next();
  let lastState: string | undefined;
  let outage = false;
  try {
    for (;;) {
      const signal = deadline.signal();
      const checked = await check(client, workerId, target, seen, signal);
      if (checked.isErr()) {
        if (signal?.aborted === true || deadline.expired()) return timedOut(lastState);
        if (!isTransient(checked.error)) return err(checked.error);
        if (!outage) o.notice?.(`${firstLine(checked.error)}; still waiting`);
        outage = true;
      } else {
        const c = checked.value;
        if (c.kind === 'met') return ok(c.outcome);
        if (c.kind === 'unreachable')
          return err({ type: 'ConditionUnreachable', message: c.message });
        if (outage) o.notice?.('the server answers again');
        outage = false;
        lastState = c.state;
      }
      const remaining = deadline.remaining();
      if (remaining <= 0) return timedOut(lastState);
      const woke = await wake(next, Math.min(o.pollMs ?? 2000, remaining));
      if (woke === 'tick') continue;
      if (woke.done === true) {
        next = undefined;
        continue;
      }
      next = iterator.next();
      if (woke.value.kind === 'failed') return err(woke.value.error);
      if (woke.value.kind === 'event') {
        note(seen, woke.value.event);
        o.onEvent?.(woke.value.event);
      }
    }
  } finally {
    controller.abort();
    void iterator.return?.(undefined);
  }
}

async function wake<T>(next: Promise<T> | undefined, ms: number): Promise<T | 'tick'> {
  let timer: NodeJS.Timeout | undefined;
  const tick = new Promise<'tick'>((resolve) => {
    timer = setTimeout(() => resolve('tick'), ms);
  });
  try {
    return await (next === undefined ? tick : Promise.race([next, tick]));
  } finally {
    clearTimeout(timer);
  }
}

function note(seen: Seen, event: CloudEventJson): void {
  seen.lastEvent = shortType(event.type);
  switch (shortType(event.type)) {
    case 'WorkerEphemeralCreated':
      seen.worker = true;
      break;
    case 'WorkerEphemeralReady':
      seen.ready = true;
      break;
    case 'WorkerEphemeralTerminated': {
      const code = event.data['exitCode'];
      seen.exitCode = typeof code === 'number' ? code : null;
      break;
    }
    case 'WorkerEphemeralCleanedUp':
      seen.cleaned = true;
      break;
    default:
      break;
  }
}

async function check(
  client: HodeiClient,
  workerId: string,
  target: WaitTarget,
  seen: Seen,
  signal: AbortSignal | undefined,
): Promise<Result<Check, ClientError>> {
  if (target === 'cleaned' && seen.cleaned) return ok(met(null, seen.exitCode ?? null, seen));
  const found = await client.findWorker<WorkerJson>(workerId, signal);
  if (found.isErr()) return err(found.error);
  const w = found.value;
  if (w === null) return checkGone(client, workerId, target, seen, signal);
  seen.worker = true;
  const terminal = TERMINAL_STATES.includes(w.state);
  const ready = seen.ready || w.readyAt !== null || w.state === 'ready' || w.state === 'busy';
  switch (target) {
    case 'started':
      return ok(ready || terminal ? met(w, w.exitCode, seen) : { kind: 'pending', state: w.state });
    case 'ready':
      if (ready) return ok(met(w, w.exitCode, seen));
      if (terminal)
        return ok({
          kind: 'unreachable',
          message: `worker ${workerId} is ${w.state} (exit code ${String(w.exitCode)}, ${w.terminationReason ?? 'no reason'}): it never became ready`,
        });
      return ok({ kind: 'pending', state: w.state });
    case 'terminated':
      return ok(terminal ? met(w, w.exitCode, seen) : { kind: 'pending', state: w.state });
    case 'cleaned':
      return ok({ kind: 'pending', state: w.state });
    default:
      return ok({ kind: 'pending', state: w.state });
  }
}

/** The server no longer has the worker: its history says what it went through. */
async function checkGone(
  client: HodeiClient,
  workerId: string,
  target: WaitTarget,
  seen: Seen,
  signal: AbortSignal | undefined,
): Promise<Result<Check, ClientError>> {
  const history = await client.json<HistoryJson>(
    'GET',
    `/v1/workers/${encodeURIComponent(workerId)}/events`,
    signal === undefined ? {} : { signal },
  );
  if (history.isErr() && history.error.type !== 'WorkerNotFound') return err(history.error);
  const events = history.isOk() ? history.value.body.events : [];
  if (!seen.worker && events.length === 0) return err({ type: 'WorkerNotFound', workerId });
  for (const e of events) note(seen, e);
  if (target === 'ready' && !seen.ready) {
    return ok({
      kind: 'unreachable',
      message: `worker ${workerId} is gone and never became ready`,
    });
  }
  return ok(met(null, seen.exitCode ?? null, seen));
}
