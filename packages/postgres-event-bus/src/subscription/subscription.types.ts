import type { Result, ResultAsync } from 'neverthrow';
import type { StoredEvent } from '../store/event-row.js';

export interface HandlerContext {
  /** Aborted when the handler runs past its timeout or the subscription stops. */
  readonly signal: AbortSignal;
  /** 1 on the first delivery of this event, 2 on the first retry, … */
  readonly attempt: number;
  readonly subscription: string;
}

/**
 * Acknowledges an event by resolving (or returning Ok); a throw, a rejection, an Err or a
 * timeout counts as a failure and the event is retried. Delivery is at least once.
 */
export type EventHandler = (
  event: StoredEvent,
  context: HandlerContext,
) => void | Promise<unknown> | ResultAsync<unknown, unknown> | Result<unknown, unknown>;

export interface RetryPolicy {
  /** Deliveries before the event goes to the dead letters (default 5). */
  readonly maxAttempts: number;
  /** Delay before the first retry; doubles, with jitter, up to `maxDelayMs`. */
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export interface SubscribeOptions {
  readonly name: string;
  readonly handler: EventHandler;
  /** Where a subscription seen for the first time starts (default `start`). */
  readonly from?: 'start' | 'end';
  readonly batchSize?: number;
  /** Default 30 s. */
  readonly handlerTimeoutMs?: number;
  /** How long a timed-out handler may take to honour its abort before the retry (default 1 s). */
  readonly abortGraceMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** The consumer lease; renewed every third of it (default 30 s). */
  readonly leaseMs?: number;
  /** The polling cap while idle (default 1 s). */
  readonly idlePollMs?: number;
}

export interface SubscriptionState {
  readonly name: string;
  /** True while this process holds the subscription's lease and delivers. */
  readonly active: boolean;
  readonly cursor: string;
  readonly delivered: number;
  readonly failures: number;
  readonly deadLettered: number;
  readonly lastError: string | null;
}

export interface SubscriptionHandle {
  readonly name: string;
  state(): SubscriptionState;
  /** Poll now (the listener calls this on NOTIFY). */
  wake(): void;
  /** Stops delivering, aborts a running handler, saves the checkpoint and frees the lease. */
  stop(): Promise<void>;
}

export interface DeadLetter {
  readonly subscription: string;
  readonly eventId: string;
  readonly globalPosition: string;
  readonly error: string;
  readonly attempts: number;
  readonly firstFailedAt: string;
  readonly lastFailedAt: string;
  readonly replayRequested: boolean;
  readonly resolved: boolean;
}
