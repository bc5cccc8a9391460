import { toCloudEvent, type LifecycleEvent } from '@hodei/domain';

/** Tells an EventSource how long to wait before it reconnects. */
export const RETRY_FRAME = 'retry: 2000\n\n';
/** A comment: keeps proxies from closing an idle stream; no EventSource handler sees it. */
export const HEARTBEAT_FRAME = ': heartbeat\n\n';

/**
 * An event's SSE frame: a default event (no `event:` line), so an `EventSource`'s `onmessage`
 * receives every lifecycle event; which one it is, is the CloudEvent's `type` in `data` (one
 * line of JSON). `id:` is the resume point (`Last-Event-ID`).
 */
export const eventFrame = (eventId: string, cloudEventJson: string): string =>
  `id: ${eventId}\ndata: ${cloudEventJson}\n\n`;

/**
 * @deprecated The type is in the data: use `eventFrame(eventId, json)`. Kept for callers that
 * still pass the type; it is no longer written.
 */
export const frameOf = (eventId: string, _type: string, cloudEventJson: string): string =>
  eventFrame(eventId, cloudEventJson);

/**
 * An event as an SSE frame. A live event's is built once, by the live stream, and shared by
 * every client; catch-ups build theirs from what they read.
 */
export function sseFrame(event: LifecycleEvent): string {
  return eventFrame(event.eventId, JSON.stringify(toCloudEvent(event)));
}

export type ResetReason = 'unknown-event' | 'catch-up-limit' | 'catch-up-failed';

/**
 * `reset`, the one named event (`addEventListener('reset', …)`; `onmessage` never sees it): the
 * events since the client's `Last-Event-ID` are not all coming; it should list the workers
 * again. Live events follow. `resumeFrom`, when known, becomes the client's `Last-Event-ID`,
 * so a reconnect does not ask for the same catch-up again. Its data is
 * `{ reason, message }`, not a CloudEvent.
 */
export function resetFrame(reason: ResetReason, message: string, resumeFrom?: string): string {
  const id = resumeFrom === undefined ? '' : `id: ${resumeFrom}\n`;
  return `${id}event: reset\ndata: ${JSON.stringify({ reason, message })}\n\n`;
}
