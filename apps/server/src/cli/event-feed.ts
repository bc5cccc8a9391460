import { setTimeout as sleep } from 'node:timers/promises';
import { err, ok, type Result } from 'neverthrow';
import { shortType, type CloudEventJson } from './api-types.js';
import type { HodeiClient } from './client.js';
import { describeClientError, type ClientError } from './client.errors.js';
import { sseMessages } from './sse.js';

export interface EventFeedFilter {
  readonly workerId?: string;
  /** Short type names (`WorkerEphemeralReady`); any when empty. */
  readonly types?: readonly string[];
}

/**
 * What a live feed yields: an event, a `reset` (events were lost: look again), a reconnect,
 * or `failed`: an error that retrying does not cure (a refused token, a 4xx); the feed ends.
 */
export type FeedItem =
  | { readonly kind: 'event'; readonly event: CloudEventJson }
  | { readonly kind: 'reset'; readonly message: string }
  | { readonly kind: 'reconnected' }
  | { readonly kind: 'failed'; readonly error: ClientError };

export interface EventFeed extends AsyncIterable<FeedItem> {
  /**
   * Where to resume from if the stream breaks before a newer message came: the last event
   * the caller already has (the end of a worker's history it printed).
   */
  resumeAfter(eventId: string): void;
}

export interface FeedOptions {
  readonly signal: AbortSignal;
  /** Told when the stream broke, each failed reconnection, and when it is back: for stderr. */
  readonly notice?: (message: string) => void;
  /** Before reconnecting, unless the server's `retry:` says otherwise (it sends 2 s). */
  readonly retryMs?: number;
}

/** `/v1/events` with the filter; the server takes a comma list of types. */
export function eventsPath(filter: EventFeedFilter): string {
  const q = new URLSearchParams();
  if (filter.workerId !== undefined) q.set('workerId', filter.workerId);
  if (filter.types !== undefined && filter.types.length > 0) q.set('type', filter.types.join(','));
  const query = q.toString();
  return query === '' ? '/v1/events' : `/v1/events?${query}`;
}

/** An error that may go away by itself: the server restarting, overloaded, or behind a proxy. */
export function isTransient(e: ClientError): boolean {
  if (e.type === 'Unreachable') return true;
  return e.type === 'HttpError' && (e.status === 408 || e.status === 429 || e.status >= 500);
}

const matches = (filter: EventFeedFilter, event: CloudEventJson): boolean =>
  (filter.types === undefined ||
    filter.types.length === 0 ||
    filter.types.includes(shortType(event.type))) &&
  (filter.workerId === undefined || event.subject === filter.workerId);

type Open = (lastEventId: string | undefined) => PromiseLike<Result<Response, ClientError>>;

/**
 * Connects to the live stream and resolves once the server has subscribed this client (so an
 * event after this point is not missed); the feed then reconnects by itself with
 * `Last-Event-ID` whenever the stream breaks, until `signal` aborts or an error that will not
 * go away (`failed`).
 */
export async function connectEventFeed(
  client: HodeiClient,
  filter: EventFeedFilter,
  options: FeedOptions,
): Promise<Result<EventFeed, ClientError>> {
  const path = eventsPath(filter);
  const open: Open = (lastEventId) =>
    client.request('GET', path, {
      signal: options.signal,
      headers: {
        accept: 'text/event-stream',
        ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
      },
    });
  const first = await open(undefined);
  if (first.isErr()) return err(first.error);
  const cursor: Cursor = { lastEventId: undefined, retryMs: options.retryMs ?? 2000 };
  return ok({
    resumeAfter: (eventId) => {
      cursor.lastEventId = eventId;
    },
    [Symbol.asyncIterator]: () => feed(first.value, open, filter, options, cursor),
  });
}

interface Cursor {
  lastEventId: string | undefined;
  retryMs: number;
}

const firstLine = (e: ClientError): string => describeClientError(e).split('\n')[0] ?? e.type;

async function* feed(
  firstResponse: Response,
  open: Open,
  filter: EventFeedFilter,
  options: FeedOptions,
  cursor: Cursor,
): AsyncGenerator<FeedItem> {
  let response: Response | undefined = firstResponse;
  const signal = options.signal;
  const onRetry = (ms: number) => {
    cursor.retryMs = ms;
  };
  while (!signal.aborted) {
    if (response?.body != null) {
      try {
        const body = response.body as AsyncIterable<Uint8Array>;
        for await (const message of sseMessages(body, onRetry)) {
          if (message.id !== undefined) cursor.lastEventId = message.id;
          const item = itemOf(message.event, message.data);
          if (item === undefined) continue;
          if (item.kind === 'event' && !matches(filter, item.event)) continue;
          yield item;
        }
      } catch {
        // The connection broke: reconnect below.
      }
      if (signal.aborted) return;
      options.notice?.('the event stream ended; reconnecting');
    }
    await sleep(cursor.retryMs, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return;
    const again = await open(cursor.lastEventId);
    if (again.isErr()) {
      if (signal.aborted) return;
      if (!isTransient(again.error)) {
        yield { kind: 'failed', error: again.error };
        return;
      }
      options.notice?.(
        `reconnecting to the event stream failed: ${firstLine(again.error)}; retrying`,
      );
      response = undefined;
      continue;
    }
    response = again.value;
    options.notice?.('the event stream is back');
    yield { kind: 'reconnected' };
  }
}

function itemOf(event: string | undefined, data: string): FeedItem | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  if (event === 'reset') {
    const message = (parsed as { message?: unknown }).message;
    return { kind: 'reset', message: typeof message === 'string' ? message : 'events were lost' };
  }
  const e = parsed as Partial<CloudEventJson>;
  if (typeof e.id !== 'string' || typeof e.type !== 'string') return undefined;
  return { kind: 'event', event: e as CloudEventJson };
}
