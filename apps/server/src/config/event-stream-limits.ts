import type { EnvReader } from './env-reader.js';

/** What one `GET /v1/events` client may hold: its catch-up, its share of them, its queue. */
export interface EventStreamLimits {
  /** Events a resume sends at most; past it, a `reset` tells the client to list again. */
  readonly catchUpMaxEvents: number;
  /** Resumes reading the event store at once; one more gets 503 with Retry-After. */
  readonly maxConcurrentCatchUps: number;
  /** Live events queued behind a client's full socket before it is dropped. */
  readonly clientQueueEvents: number;
  /** How long a catch-up waits for a client's full socket to drain before dropping it. */
  readonly catchUpStallMs: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = {
  catchUpMaxEvents: 10_000,
  maxConcurrentCatchUps: 20,
  clientQueueEvents: 1_000,
  catchUpStallMs: 30_000,
};

/**
 * `HODEI_SSE_CATCHUP_MAX_EVENTS`, `HODEI_SSE_MAX_CATCHUPS`, `HODEI_SSE_CLIENT_QUEUE_EVENTS`,
 * `HODEI_SSE_CATCHUP_STALL_SECONDS`.
 */
export function readEventStreamLimits(reader: EnvReader): EventStreamLimits {
  const d = DEFAULT_EVENT_STREAM_LIMITS;
  return {
    catchUpMaxEvents: reader.integer(
      'HODEI_SSE_CATCHUP_MAX_EVENTS',
      d.catchUpMaxEvents,
      1,
      1_000_000,
      'a whole number of events from 1 to 1000000',
    ),
    maxConcurrentCatchUps: reader.integer(
      'HODEI_SSE_MAX_CATCHUPS',
      d.maxConcurrentCatchUps,
      1,
      10_000,
      'a whole number of concurrent resumes from 1 to 10000',
    ),
    clientQueueEvents: reader.integer(
      'HODEI_SSE_CLIENT_QUEUE_EVENTS',
      d.clientQueueEvents,
      1,
      1_000_000,
      'a whole number of events from 1 to 1000000',
    ),
    catchUpStallMs: reader.seconds('HODEI_SSE_CATCHUP_STALL_SECONDS', d.catchUpStallMs),
  };
}
