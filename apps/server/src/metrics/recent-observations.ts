import type { DueRule } from '@hodei/domain';

/** A series of the window: a reap-lag rule, or the idle tail. */
export type RecentSeries = DueRule | 'idleTail';

/** Seconds; `null` figures when nothing was observed in the window. */
export interface ObservationSummary {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

/** The longest window asked of it: a day. */
export const MAX_WINDOW_SECONDS = 86_400;

/** Observations kept per series: past it the oldest goes, so memory stays bounded. */
export const MAX_RECENT_PER_SERIES = 10_000;

/** How far ahead of this server's clock an observation may be and still count. */
export const MAX_CLOCK_SKEW_MS = 5_000;

/** A fixed-size ring of (time, value), oldest first; a full ring overwrites its oldest. */
class Ring {
  readonly #at: Float64Array;
  readonly #value: Float64Array;
  #start = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#at = new Float64Array(capacity);
    this.#value = new Float64Array(capacity);
  }

  push(at: number, value: number): void {
    const capacity = this.#at.length;
    const index = (this.#start + this.#size) % capacity;
    this.#at[index] = at;
    this.#value[index] = value;
    if (this.#size < capacity) this.#size++;
    else this.#start = (this.#start + 1) % capacity;
  }

  /** Drops, from the oldest end, what was observed before `before`. */
  dropBefore(before: number): void {
    while (this.#size > 0 && (this.#at[this.#start] ?? 0) < before) {
      this.#start = (this.#start + 1) % this.#at.length;
      this.#size--;
    }
  }

  /**
   * The values observed from `since` to `until`, both included; by time, not by position:
   * an observation that came late sits after newer ones.
   */
  valuesBetween(since: number, until: number): number[] {
    const values: number[] = [];
    for (let i = 0; i < this.#size; i++) {
      const index = (this.#start + i) % this.#at.length;
      const at = this.#at[index] ?? 0;
      if (at >= since && at <= until) values.push(this.#value[index] ?? 0);
    }
    return values;
  }
}

/** The nearest-rank quantile `q` of ascending `sorted`, which is not empty. */
const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;

/**
 * The last day of reap lags and idle tails, for `GET /v1/stats/deadlines`: the same
 * observations as `hodei_reap_lag_seconds` and `hodei_idle_tail_seconds`, all providers
 * together, at most `maxPerSeries` per series. Prometheus histograms give only bucketed
 * quantiles over a range a scraper keeps; this answers without one. In memory: lost at restart.
 * An observation dated more than `MAX_CLOCK_SKEW_MS` ahead of the clock, or before the
 * longest window, is ignored: it would hold a place in the ring and count where it must not.
 */
export class RecentObservations {
  readonly #series = new Map<RecentSeries, Ring>();
  readonly #maxPerSeries: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(
    maxPerSeries = MAX_RECENT_PER_SERIES,
    maxAgeMs = MAX_WINDOW_SECONDS * 1000,
    now: () => number = Date.now,
  ) {
    this.#maxPerSeries = maxPerSeries;
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  /** `seconds` observed at `at` (epoch ms); ignored when in the future or too old. */
  add(series: RecentSeries, at: number, seconds: number): void {
    const now = this.#now();
    if (!Number.isFinite(at) || at > now + MAX_CLOCK_SKEW_MS || at < now - this.#maxAgeMs) return;
    let ring = this.#series.get(series);
    if (ring === undefined) {
      ring = new Ring(this.#maxPerSeries);
      this.#series.set(series, ring);
    }
    ring.dropBefore(now - this.#maxAgeMs);
    ring.push(at, seconds);
  }

  /** Count, p50, p90, p99 and max of what `series` observed in the `windowMs` before `now`. */
  summary(series: RecentSeries, now: number, windowMs: number): ObservationSummary {
    const ring = this.#series.get(series);
    ring?.dropBefore(now - this.#maxAgeMs);
    const values = ring?.valuesBetween(now - windowMs, now + MAX_CLOCK_SKEW_MS) ?? [];
    if (values.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null };
    values.sort((a, b) => a - b);
    return {
      count: values.length,
      p50: quantile(values, 0.5),
      p90: quantile(values, 0.9),
      p99: quantile(values, 0.99),
      max: values.at(-1) ?? null,
    };
  }
}
