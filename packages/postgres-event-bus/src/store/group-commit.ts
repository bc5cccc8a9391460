import { err, ok, type Result } from 'neverthrow';
import type { AppendRow } from '../schema/append-statement.js';
import type { EventRowJson } from './event-row.js';
import type { AppendError } from './event-store.errors.js';

/** Runs one append in a transaction of its own; one output row per input row, in order. */
export type RunAppend = (
  rows: readonly EventRowJson[],
) => Promise<Result<readonly AppendRow[], AppendError>>;

/** A group's append: its rows, or the streams whose locks were busy (then nothing written). */
export type GroupReply =
  { readonly rows: readonly AppendRow[] } | { readonly busyStreams: readonly string[] };

/**
 * Runs a group's append in a transaction of its own without waiting for any stream's lock:
 * when one is held (by a caller's open transaction) it writes nothing and names the busy ones.
 */
export type RunGroupAppend = (
  rows: readonly EventRowJson[],
) => Promise<Result<GroupReply, AppendError>>;

interface Waiter {
  readonly rows: readonly EventRowJson[];
  readonly streams: ReadonlySet<string>;
  readonly resolve: (result: Result<readonly AppendRow[], AppendError>) => void;
}

export const DEFAULT_MAX_GROUP_EVENTS = 500;

/**
 * SQLSTATEs that kill a group only because of the locks it took for all its callers together
 * (deadlock detected, lock_timeout): nothing committed, and each caller alone may go through.
 */
const GROUP_LOCK_CODES = new Set(['40P01', '55P03']);

const sqlStateOf = (error: AppendError): string | undefined => {
  const cause = 'cause' in error ? error.cause : undefined;
  return typeof cause === 'object' && cause !== null && 'code' in cause
    ? String(cause.code)
    : undefined;
};
export const DEFAULT_MAX_GROUPS_IN_FLIGHT = 2;

export interface GroupCommitLimits {
  /** Most events in one group (a single caller's larger batch still goes, alone). */
  readonly maxEvents?: number;
  /** Most groups committing at once; groups in flight never share a stream. */
  readonly maxInFlight?: number;
  /**
   * The group's append (default: `run`, which waits for each stream's lock). With it, callers
   * on a busy stream leave the group for appends of their own and the rest commit at once.
   */
  readonly runGroup?: RunGroupAppend;
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
  readonly #runGroup: RunGroupAppend;
  readonly #maxEvents: number;
  readonly #maxInFlight: number;
  #queue: Waiter[] = [];
  /** The streams of each group in flight. */
  readonly #inFlight = new Set<ReadonlySet<string>>();
  #scheduled = false;
  /** Resolved, then cleared, each time the queue and the groups in flight are all done. */
  #idle: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(run: RunAppend, limits: GroupCommitLimits = {}) {
    this.#run = run;
    this.#runGroup =
      limits.runGroup ?? (async (rows) => (await run(rows)).map((out) => ({ rows: out })));
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
   * Resolves once every append already called is answered: queued callers and groups in
   * flight included (appends made meanwhile are waited for too).
   */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight.size === 0) return Promise.resolve();
    if (this.#idle === null) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#idle = { promise, resolve };
    }
    return this.#idle.promise;
  }

  #settledAll(): void {
    if (this.#queue.length > 0 || this.#inFlight.size > 0 || this.#idle === null) return;
    const idle = this.#idle;
    this.#idle = null;
    idle.resolve();
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
      // Handled on both sides: a commit that throws must not escape as an unhandled rejection.
      const done = (): void => {
        this.#inFlight.delete(group.streams);
        if (this.#queue.length > 0) this.#schedule();
        else this.#settledAll();
      };
      this.#commit(group.waiters).then(done, done);
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
    const aside: Promise<void>[] = [];
    let pending = group;
    while (pending.length > 1) {
      const reply = await this.#settleGroup(pending.flatMap((w) => w.rows));
      if (reply.isOk() && 'busyStreams' in reply.value) {
        const { stay, leave } = splitOnStreams(pending, reply.value.busyStreams);
        if (leave.length === 0) break;
        // Stream-disjoint from those that stay: they may commit in any order relative to them.
        aside.push(this.#oneByOne(leave));
        pending = stay;
        continue;
      }
      if (reply.isOk() && 'rows' in reply.value) {
        const { rows } = reply.value;
        let offset = 0;
        for (const waiter of pending) {
          waiter.resolve(ok(rows.slice(offset, offset + waiter.rows.length)));
          offset += waiter.rows.length;
        }
        pending = [];
      } else if (
        reply.isErr() &&
        reply.error.type === 'EventStoreUnavailable' &&
        !GROUP_LOCK_CODES.has(sqlStateOf(reply.error) ?? '')
      ) {
        // Nothing committed (or nothing known to be): every caller hears it, none is told Ok.
        for (const waiter of pending) waiter.resolve(err(reply.error));
        pending = [];
      }
      // Else PostgreSQL refused the combined append, maybe for one caller's event, or the
      // group died of a deadlock or lock timeout on the locks of all its streams together:
      // rolled back, so each caller gets the answer to its own append, in queue order, as
      // without group commit.
      break;
    }
    aside.push(this.#oneByOne(pending));
    await Promise.all(aside);
  }

  /** Each waiter's own append, one after the other, in queue order. */
  async #oneByOne(waiters: readonly Waiter[]): Promise<void> {
    for (const waiter of waiters) waiter.resolve(await this.#settle(waiter.rows));
  }

  /** `runGroup`, with a throw or a short reply turned into an error: never rejects. */
  async #settleGroup(rows: readonly EventRowJson[]): Promise<Result<GroupReply, AppendError>> {
    try {
      const reply = await this.#runGroup(rows);
      if (reply.isOk() && 'rows' in reply.value && reply.value.rows.length !== rows.length) {
        return err(shortReply(reply.value.rows.length, rows.length));
      }
      return reply;
    } catch (cause) {
      return err(thrown(cause));
    }
  }

  /** `run`, with a throw or a short reply turned into an error: never rejects. */
  async #settle(rows: readonly EventRowJson[]): Promise<Result<readonly AppendRow[], AppendError>> {
    try {
      const result = await this.#run(rows);
      if (result.isOk() && result.value.length !== rows.length) {
        return err(shortReply(result.value.length, rows.length));
      }
      return result;
    } catch (cause) {
      return err(thrown(cause));
    }
  }
}

const shortReply = (got: number, wanted: number): AppendError => ({
  type: 'InvalidAppend',
  message: `the append returned ${got} rows for ${wanted} events`,
});

const thrown = (cause: unknown): AppendError => ({
  type: 'EventStoreFailure',
  message: `append: ${cause instanceof Error ? cause.message : String(cause)}`,
  retryable: false,
  cause,
});

/**
 * The waiters that touch a busy stream leave, and so does every waiter sharing a stream with
 * one that leaves (before or after it), so the two sets never share a stream.
 */
function splitOnStreams(
  waiters: readonly Waiter[],
  busy: readonly string[],
): { stay: Waiter[]; leave: Waiter[] } {
  const leaving = new Set(busy);
  const out = new Set<Waiter>();
  for (let grew = true; grew;) {
    grew = false;
    for (const waiter of waiters) {
      if (out.has(waiter) || ![...waiter.streams].some((s) => leaving.has(s))) continue;
      out.add(waiter);
      for (const s of waiter.streams) leaving.add(s);
      grew = true;
    }
  }
  return {
    stay: waiters.filter((w) => !out.has(w)),
    leave: waiters.filter((w) => out.has(w)),
  };
}
