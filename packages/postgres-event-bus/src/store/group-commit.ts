import { err, ok, type Result } from 'neverthrow';
import type { AppendRow } from '../schema/append-statement.js';
import type { EventRowJson } from './event-row.js';
import type { AppendError } from './event-store.errors.js';

/** Runs one append in a transaction of its own; one output row per input row, in order. */
export type RunAppend = (
  rows: readonly EventRowJson[],
) => Promise<Result<readonly AppendRow[], AppendError>>;

interface Waiter {
  readonly rows: readonly EventRowJson[];
  readonly streams: ReadonlySet<string>;
  readonly resolve: (result: Result<readonly AppendRow[], AppendError>) => void;
}

export const DEFAULT_MAX_GROUP_EVENTS = 500;
export const DEFAULT_MAX_GROUPS_IN_FLIGHT = 2;

export interface GroupCommitLimits {
  /** Most events in one group (a single caller's larger batch still goes, alone). */
  readonly maxEvents?: number;
  /** Most groups committing at once; groups in flight never share a stream. */
  readonly maxInFlight?: number;
}

/**
 * Group commit for appends in transactions of their own: the appends that arrive while
 * earlier ones are committing queue up and then go together, in arrival order, as one append
 * (one round trip, one transaction, one WAL flush). Each caller is answered only from that
 * append's own reply, so an Ok always means committed.
 *
 * Up to `maxInFlight` groups commit at once (what is ready is shared among the free ones), but
 * never two holding the same stream: a caller whose streams overlap a group in flight (or an
 * earlier caller still waiting) waits its turn, so per stream the log keeps call order. A lone
 * append waits only for the end of the current tick. A group holds at most `maxEvents`
 * events; a single caller's batch is never split.
 */
export class GroupCommit {
  readonly #run: RunAppend;
  readonly #maxEvents: number;
  readonly #maxInFlight: number;
  #queue: Waiter[] = [];
  /** The streams of each group in flight. */
  readonly #inFlight = new Set<ReadonlySet<string>>();
  #scheduled = false;

  constructor(run: RunAppend, limits: GroupCommitLimits = {}) {
    this.#run = run;
    this.#maxEvents = Math.max(1, limits.maxEvents ?? DEFAULT_MAX_GROUP_EVENTS);
    this.#maxInFlight = Math.max(1, limits.maxInFlight ?? DEFAULT_MAX_GROUPS_IN_FLIGHT);
  }

  append(rows: readonly EventRowJson[]): Promise<Result<readonly AppendRow[], AppendError>> {
    return new Promise((resolve) => {
      this.#queue.push({ rows, streams: new Set(rows.map((r) => r.row.stream_id)), resolve });
      this.#schedule();
    });
  }

  /**
   * After the current tick (its promise continuations included), so callers woken together —
   * by the previous group's reply — join the same group.
   */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight.size >= this.#maxInFlight) return;
    this.#scheduled = true;
    process.nextTick(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    // What is ready is spread over the free lanes: commits in parallel ride on the same WAL
    // flush, and a scheduling delay on one connection does not hold up every caller.
    const free = this.#maxInFlight - this.#inFlight.size;
    const queued = this.#queue.reduce((n, w) => n + w.rows.length, 0);
    const share = Math.min(this.#maxEvents, Math.max(1, Math.ceil(queued / Math.max(1, free))));
    while (this.#inFlight.size < this.#maxInFlight) {
      const group = this.#take(share);
      if (group === null) return;
      this.#inFlight.add(group.streams);
      void this.#commit(group.waiters).finally(() => {
        this.#inFlight.delete(group.streams);
        if (this.#queue.length > 0) this.#schedule();
      });
    }
  }

  /**
   * The oldest waiters that may go now, up to the event bound: none whose streams a group in
   * flight holds, nor any after a waiter held back on the same stream.
   */
  #take(limit: number): { waiters: Waiter[]; streams: Set<string> } | null {
    const blocked = new Set<string>();
    for (const streams of this.#inFlight) for (const s of streams) blocked.add(s);
    const taken: Waiter[] = [];
    const streams = new Set<string>();
    let events = 0;
    const left: Waiter[] = [];
    for (const waiter of this.#queue) {
      const full = taken.length > 0 && events + waiter.rows.length > limit;
      if (full || [...waiter.streams].some((s) => blocked.has(s))) {
        for (const s of waiter.streams) blocked.add(s);
        left.push(waiter);
        continue;
      }
      taken.push(waiter);
      events += waiter.rows.length;
      for (const s of waiter.streams) streams.add(s);
    }
    if (taken.length === 0) return null;
    this.#queue = left;
    return { waiters: taken, streams };
  }

  async #commit(group: readonly Waiter[]): Promise<void> {
    const only = group.length === 1 ? group[0] : undefined;
    if (only !== undefined) {
      only.resolve(await this.#settle(only.rows));
      return;
    }
    const combined = await this.#settle(group.flatMap((w) => w.rows));
    if (combined.isOk()) {
      let offset = 0;
      for (const waiter of group) {
        waiter.resolve(ok(combined.value.slice(offset, offset + waiter.rows.length)));
        offset += waiter.rows.length;
      }
      return;
    }
    if (combined.error.type === 'EventStoreUnavailable') {
      // Nothing committed (or nothing known to be): every caller hears it, none is told Ok.
      for (const waiter of group) waiter.resolve(err(combined.error));
      return;
    }
    // PostgreSQL refused the combined append, maybe for one caller's event: each caller gets
    // the answer to its own append, in queue order.
    for (const waiter of group) waiter.resolve(await this.#settle(waiter.rows));
  }

  /** `run`, with a throw or a short reply turned into an error: never rejects. */
  async #settle(rows: readonly EventRowJson[]): Promise<Result<readonly AppendRow[], AppendError>> {
    try {
      const result = await this.#run(rows);
      if (result.isOk() && result.value.length !== rows.length) {
        return err({
          type: 'InvalidAppend',
          message: `the append returned ${result.value.length} rows for ${rows.length} events`,
        });
      }
      return result;
    } catch (cause) {
      return err({
        type: 'EventStoreFailure',
        message: `append: ${cause instanceof Error ? cause.message : String(cause)}`,
        retryable: false,
        cause,
      });
    }
  }
}
