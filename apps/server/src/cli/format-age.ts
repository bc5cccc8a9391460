const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

/**
 * A duration as kubectl shows ages: "45s", "3m20s", "12m", "2h5m", "30h", "3d4h", "40d",
 * "2y30d". Short units while they matter, coarser as the age grows.
 */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0s';
  const s = Math.floor(ms / SECOND);
  const m = Math.floor(ms / MINUTE);
  const h = Math.floor(ms / HOUR);
  const d = Math.floor(ms / DAY);
  const y = Math.floor(ms / YEAR);
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`;
  if (s < 120) return `${s}s`;
  if (m < 10) return pair(m, 'm', s % 60, 's');
  if (m < 3 * 60) return `${m}m`;
  if (h < 8) return pair(h, 'h', m % 60, 'm');
  if (h < 48) return `${h}h`;
  if (h < 8 * 24) return pair(d, 'd', h % 24, 'h');
  if (d < 2 * 365) return `${d}d`;
  if (d < 8 * 365) return pair(y, 'y', d % 365, 'd');
  return `${y}y`;
}

/**
 * How far a deadline or an activity is from now: hours and minutes from the first hour on
 * ("1h58m", not the age's "118m"), as a person plans by the clock; otherwise as `formatAge`.
 */
export function formatSpan(ms: number): string {
  if (!Number.isFinite(ms) || ms < HOUR || ms >= 3 * HOUR) return formatAge(ms);
  const h = Math.floor(ms / HOUR);
  const m = Math.floor(ms / MINUTE) % 60;
  return m === 0 ? `${h}h` : `${h}h${m}m`;
}

/** The age of an ISO time at `now`, or `-` when there is no time. */
export function ageOf(iso: string | null | undefined, now: number): string {
  if (iso === null || iso === undefined) return '-';
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '-' : formatAge(now - at);
}
