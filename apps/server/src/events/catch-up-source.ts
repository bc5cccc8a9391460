import type { EventFilter } from './event-filter.js';

/** A missed event ready to send: its id, to drop a live copy of it, and its SSE frame. */
export interface CatchUpItem {
  readonly eventId: string;
  readonly frame: string;
}

/**
 * Events a page: a small first page puts the first event on the wire soon even when many
 * resumes start at once; the later, larger ones keep the number of queries down.
 */
export interface PageSizes {
  readonly first: number;
  readonly rest: number;
}

/** How a catch-up's pages ended: all read, the resume point unknown, or the store failing. */
export type CatchUpEnd =
  | { readonly kind: 'complete' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'failed'; readonly message: string };

/** Where the events a resuming SSE client missed come from (the event store, the live memory). */
export interface CatchUpSource {
  /**
   * The events after `lastEventId` that match `filter`, oldest first, in pages of `sizes`. The consumer pulls the next page only when it is ready for it, so no more than a
   * page is read ahead of a slow client.
   */
  pages(
    lastEventId: string,
    filter: EventFilter,
    sizes: PageSizes,
  ): AsyncGenerator<readonly CatchUpItem[], CatchUpEnd, void>;
  /** An id to resume from that asks only for events after now, if there is one. */
  resumePoint(): Promise<string | undefined>;
}
