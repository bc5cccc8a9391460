import type { ServerResponse } from 'node:http';
import type { EventStreamLimits } from '../config/event-stream-limits.js';
import type { CatchUpEnd, CatchUpSource, PageSizes } from './catch-up-source.js';
import { matchesSubject, type EventFilter } from './event-filter.js';
import { HeldEvents } from './held-events.js';
import { RecentIds } from './recent-ids.js';
import type { LiveEvent, LiveEventStream } from './live-event-stream.js';
import { SseClient } from './sse-client.js';
import { HEARTBEAT_FRAME, resetFrame, RETRY_FRAME, type ResetReason } from './sse-frames.js';

/**
 * Events read from the store, and written to the socket, at a time. Small pages fit the
 * socket's buffer, so reading the next overlaps sending this one, and little is in flight
 * per client: in the SSE bench they beat pages of 500 on memory and on time alike.
 */
export const CATCH_UP_PAGE_SIZES: PageSizes = { first: 50, rest: 100 };

/** Sent ids remembered to skip late live copies: many pages' worth of the newest. */
const SENT_IDS_KEPT = 1_000;

export interface EventStreamOptions {
  /** Its headers already written. */
  readonly response: ServerResponse;
  readonly filter: EventFilter;
  readonly lastEventId: string | undefined;
  readonly live: LiveEventStream;
  readonly source: CatchUpSource;
  readonly limits: EventStreamLimits;
  readonly heartbeatMs: number;
  /** Gives the catch-up slot back; called once the stream is live, or closed. */
  readonly release: () => void;
  readonly onDropped?: (queued: number) => void;
}

type Outcome =
  | { readonly kind: 'live' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'reset'; readonly reason: ResetReason; readonly message: string };

const closed: Outcome = { kind: 'closed' };
const reset = (reason: ResetReason, message: string): Outcome => ({
  kind: 'reset',
  reason,
  message,
});

/**
 * One `GET /v1/events` connection. It listens first, holding live events while it sends
 * what the client missed page by page (the next page read only once the socket drained),
 * then the held events it did not already send, then goes live. Resolves once live or closed.
 */
export class EventStreamSession {
  readonly #o: EventStreamOptions;
  readonly #client: SseClient;
  readonly #held: HeldEvents;
  readonly #sent = new RecentIds(SENT_IDS_KEPT);
  #live = false;

  private constructor(options: EventStreamOptions) {
    this.#o = options;
    this.#client = new SseClient(options.response, {
      maxQueuedFrames: options.limits.clientQueueEvents,
      ...(options.onDropped === undefined ? {} : { onDropped: options.onDropped }),
    });
    this.#held = new HeldEvents(options.limits.catchUpMaxEvents);
  }

  static async serve(options: EventStreamOptions): Promise<void> {
    await new EventStreamSession(options).#run();
  }

  async #run(): Promise<void> {
    const o = this.#o;
    const unsubscribe = o.live.subscribe((_, live) => this.#onLive(live));
    const heartbeat = setInterval(() => this.#client.sendIfIdle(HEARTBEAT_FRAME), o.heartbeatMs);
    o.response.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      o.release();
    });
    this.#client.writePage([RETRY_FRAME]);
    if (o.lastEventId === undefined) this.#live = true;
    else await this.#catchUp(o.lastEventId);
    o.release();
  }

  #onLive(live: LiveEvent): void {
    if (!matchesSubject(this.#o.filter, live.subject, live.event.type)) return;
    if (this.#sent.take(live.event.eventId)) return;
    if (this.#live) this.#client.send(live.frame);
    else this.#held.add(live);
  }

  async #catchUp(lastEventId: string): Promise<void> {
    let outcome = await this.#sendMissed(lastEventId);
    // Goes live itself when nothing is held, so no event slips between the check and the switch.
    if (outcome.kind === 'live') outcome = await this.#sendHeld();
    if (outcome.kind !== 'reset') return;
    const resumeFrom = await this.#o.source.resumePoint();
    this.#held.clear();
    this.#live = true;
    this.#client.send(resetFrame(outcome.reason, outcome.message, resumeFrom));
  }

  async #sendMissed(lastEventId: string): Promise<Outcome> {
    const max = this.#o.limits.catchUpMaxEvents;
    const pages = this.#o.source.pages(lastEventId, this.#o.filter, CATCH_UP_PAGE_SIZES);
    let sent = 0;
    try {
      for (;;) {
        if (!(await this.#client.writable(this.#o.limits.catchUpStallMs))) return closed;
        if (this.#held.overflowed) return this.#heldOverflow();
        const step = await pages.next();
        if (step.done) return outcomeOf(step.value, lastEventId);
        const room = max - sent;
        const frames: string[] = [];
        for (const item of step.value.slice(0, room)) {
          this.#held.delete(item.eventId);
          this.#sent.add(item.eventId);
          frames.push(item.frame);
        }
        this.#client.writePage(frames);
        sent += frames.length;
        if (step.value.length > room) {
          return reset(
            'catch-up-limit',
            `more than ${max} events were missed since ${lastEventId}; list the workers again, live events follow`,
          );
        }
      }
    } finally {
      await pages.return({ kind: 'complete' });
    }
  }

  async #sendHeld(): Promise<Outcome> {
    for (;;) {
      if (this.#held.overflowed) return this.#heldOverflow();
      if (this.#held.size === 0) {
        this.#live = true;
        return { kind: 'live' };
      }
      if (!(await this.#client.writable(this.#o.limits.catchUpStallMs))) return closed;
      this.#client.writePage(this.#held.take(CATCH_UP_PAGE_SIZES.rest).map((h) => h.frame));
    }
  }

  #heldOverflow(): Outcome {
    return reset(
      'catch-up-limit',
      `more than ${this.#held.max} live events arrived during the catch-up; list the workers again, live events follow`,
    );
  }
}

function outcomeOf(end: CatchUpEnd, lastEventId: string): Outcome {
  switch (end.kind) {
    case 'complete':
      return { kind: 'live' };
    case 'unknown':
      return reset(
        'unknown-event',
        `event ${lastEventId} is unknown; list the workers again, live events follow`,
      );
    case 'failed':
      // The store's own words (driver errors, addresses) stay in the server's log.
      return reset(
        'catch-up-failed',
        'the missed events cannot be read now; list the workers again, live events follow',
      );
  }
}
