import { CLOUD_EVENT_TYPE_PREFIX, shortType, type CloudEventJson } from './api-types.js';
import { say, type CliContext } from './cli-context.js';
import type { HodeiClient } from './client.js';
import { eventSummary } from './event-format.js';
import { connectEventFeed } from './event-feed.js';

export interface Progress {
  /** Prints a worker's event on stderr: `worker w1: ready (+0.6s)`. */
  readonly onEvent: (event: CloudEventJson) => void;
  /** Whether an event of this short type (`WorkerEphemeralCleanedUp`) was printed. */
  shown(type: string): boolean;
}

/** Progress lines on stderr while a command waits, timed from its start. */
export function progressPrinter(ctx: CliContext, workerId: string): Progress {
  const started = ctx.now();
  const shown = new Set<string>();
  return {
    shown: (type) => shown.has(`${CLOUD_EVENT_TYPE_PREFIX}${type}`) || shown.has(type),
    onEvent: (e) => {
      if (e.subject !== workerId) return;
      shown.add(e.type);
      const seconds = ((ctx.now() - started) / 1000).toFixed(1);
      say(ctx, `worker ${workerId}: ${eventSummary(e)} (+${seconds}s)`);
    },
  };
}

/** How long the events that led to an answer may trail it on their own connection. */
const TRAILING_EVENTS_MS = 1000;

/**
 * Runs `work` while printing the worker's events as they happen (a request that blocks,
 * such as `DELETE ?wait=true`). Its events travel on another connection than its answer:
 * once it answered, they are awaited until `lastEvent` (a short type) was printed, a second
 * at most. Without the event stream the work runs all the same.
 */
export async function withProgress<T>(
  ctx: CliContext,
  client: HodeiClient,
  workerId: string,
  work: () => PromiseLike<T>,
  lastEvent: (answer: T) => string | undefined = () => undefined,
): Promise<T> {
  const printer = progressPrinter(ctx, workerId);
  const controller = new AbortController();
  const feed = await connectEventFeed(client, { workerId }, { signal: controller.signal });
  let expected: string | undefined;
  let arrived: () => void = () => undefined;
  const trailing = new Promise<void>((resolve) => (arrived = resolve));
  const pump = feed.isErr()
    ? Promise.resolve()
    : (async () => {
        for await (const item of feed.value) {
          if (item.kind !== 'event') continue;
          printer.onEvent(item.event);
          if (expected !== undefined && shortType(item.event.type) === expected) arrived();
        }
      })().catch(() => undefined);
  try {
    const answer = await work();
    expected = lastEvent(answer);
    if (expected !== undefined && feed.isOk() && !printer.shown(expected)) {
      const timer = setTimeout(arrived, TRAILING_EVENTS_MS);
      await trailing;
      clearTimeout(timer);
    }
    return answer;
  } finally {
    controller.abort();
    await pump;
  }
}
