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

  /** The values observed at or after `since`. */
  valuesSince(since: number): number[] {
    const values: number[] = [];
    for (let i = 0; i < this.#size; i++) {
      const index = (this.#start + i) % this.#at.length;
      if ((this.#at[index] ?? 0) >= since) values.push(this.#value[index] ?? 0);
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
 */
export class RecentObservations {
  readonly #series = new Map<RecentSeries, Ring>();
  readonly #maxPerSeries: number;
  readonly #maxAgeMs: number;

  constructor(maxPerSeries = MAX_RECENT_PER_SERIES, maxAgeMs = MAX_WINDOW_SECONDS * 1000) {
    this.#maxPerSeries = maxPerSeries;
    this.#maxAgeMs = maxAgeMs;
  }

  /** `seconds` observed at `at` (epoch ms). */
  add(series: RecentSeries, at: number, seconds: number): void {
    let ring = this.#series.get(series);
    if (ring === undefined) {
      ring = new Ring(this.#maxPerSeries);
      this.#series.set(series, ring);
    }
    ring.dropBefore(at - this.#maxAgeMs);
    ring.push(at, seconds);
  }

  /** Count, p50, p90, p99 and max of what `series` observed in the `windowMs` before `now`. */
  summary(series: RecentSeries, now: number, windowMs: number): ObservationSummary {
    const ring = this.#series.get(series);
    ring?.dropBefore(now - this.#maxAgeMs);
    const values = ring?.valuesSince(now - windowMs) ?? [];
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
