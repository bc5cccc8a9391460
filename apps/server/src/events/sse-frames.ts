import { toCloudEvent, type LifecycleEvent } from '@hodei/domain';

/** Tells an EventSource how long to wait before it reconnects. */
export const RETRY_FRAME = 'retry: 2000\n\n';
export const HEARTBEAT_FRAME = ': heartbeat\n\n';

/** An event's SSE frame from its CloudEvent JSON (one line): `id:` is the resume point. */
export const frameOf = (eventId: string, type: string, cloudEventJson: string): string =>
  `id: ${eventId}\nevent: ${type}\ndata: ${cloudEventJson}\n\n`;

/**
 * An event as an SSE frame. A live event's is built once, by the live stream, and shared by
 * every client; catch-ups build theirs from what they read.
 */
export function sseFrame(event: LifecycleEvent): string {
  return frameOf(event.eventId, event.type, JSON.stringify(toCloudEvent(event)));
}

export type ResetReason = 'unknown-event' | 'catch-up-limit' | 'catch-up-failed';

/**
 * `reset`: the events since the client's `Last-Event-ID` are not all coming; it should list
 * the workers again. Live events follow. `resumeFrom`, when known, becomes the client's
 * `Last-Event-ID`, so a reconnect does not ask for the same catch-up again.
 */
export function resetFrame(reason: ResetReason, message: string, resumeFrom?: string): string {
  const id = resumeFrom === undefined ? '' : `id: ${resumeFrom}\n`;
  return `${id}event: reset\ndata: ${JSON.stringify({ reason, message })}\n\n`;
}
