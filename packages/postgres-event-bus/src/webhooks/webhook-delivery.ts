import { toCloudEvent } from '@hodei/domain';
import { err, ok, type Result, ResultAsync } from 'neverthrow';
import type { StoredEvent } from '../store/event-row.js';
import type { HandlerContext } from '../subscription/subscription.types.js';
import { signature } from './webhook-signature.js';

/** The media type of the body: a CloudEvent in structured mode (CloudEvents HTTP binding). */
export const CLOUD_EVENTS_JSON = 'application/cloudevents+json';

/** The body and headers of one attempt; the timestamp (and so the signature) is the attempt's. */
export function webhookRequest(
  secret: string,
  stored: StoredEvent,
  nowMs: number,
): { readonly body: string; readonly headers: Record<string, string> } {
  const body = JSON.stringify(toCloudEvent(stored.event));
  const id = stored.event.eventId;
  const timestamp = Math.floor(nowMs / 1000);
  return {
    body,
    headers: {
      'content-type': CLOUD_EVENTS_JSON,
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature(secret, id, timestamp, body),
    },
  };
}

const reasonOf = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause);
  const inner: unknown = cause.cause;
  if (inner instanceof Error) {
    const code = 'code' in inner ? String(inner.code) : '';
    return `${cause.message}: ${code === '' ? inner.message : code}`;
  }
  return cause.message;
};

/** Ok on a 2xx; a 3xx says redirects are not followed. */
const outcomeOf = (status: number): Result<number, string> => {
  if (status >= 200 && status < 300) return ok(status);
  return err(
    status >= 300 && status < 400
      ? `HTTP ${status} (redirects are not followed)`
      : `HTTP ${status}`,
  );
};

/**
 * POSTs the event; Ok on a 2xx answer, else Err with the reason (the URL is left out: it may
 * carry a token). Redirects are not followed: a 3xx is a failure, so an allowed target cannot
 * send the request on to an address the allowlist refuses.
 */
export function postEvent(
  url: string,
  secret: string,
  stored: StoredEvent,
  context: HandlerContext,
  userAgent: string,
): ResultAsync<number, string> {
  const { body, headers } = webhookRequest(secret, stored, Date.now());
  const send = ResultAsync.fromThrowable(
    (): Promise<Response> =>
      fetch(url, {
        method: 'POST',
        headers: { ...headers, 'user-agent': userAgent },
        body,
        redirect: 'manual',
        signal: context.signal,
      }),
    (cause): string =>
      context.signal.aborted
        ? `request aborted: ${reasonOf(context.signal.reason)}`
        : reasonOf(cause),
  );
  // The answer's body is not read: release the connection.
  return send().andThen((response) =>
    ResultAsync.fromSafePromise(
      response.body?.cancel().catch(() => undefined) ?? Promise.resolve(),
    ).andThen(() => outcomeOf(response.status)),
  );
}
