import { InvalidArgumentError } from 'commander';
import { parseDuration } from './duration.js';
import { httpUrl } from './http-url.js';

/** The argument parsers of `hodei webhooks …`: a usage error (exit 2) before anything is sent. */

/** `webhooks add URL`: an http(s) URL with a host; the server checks it against its allowlist. */
export function targetArgument(value: string): string {
  if (httpUrl(value) === undefined)
    throw new InvalidArgumentError(
      `"${value}" is not a webhook URL: give http(s)://HOST[:PORT]/PATH (e.g. https://hooks.example.com/hodei)`,
    );
  return value;
}

// As lenient as the server's check: the server stays the judge of what it accepts.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * What is wrong with a `--secret`, if anything: it must be `whsec_` and 24 to 64 bytes in
 * base64, as the Standard Webhooks libraries take it. Checked in the action, not as an option
 * parser: commander would repeat the value in its message, and it is a secret.
 */
export function secretProblem(value: string, option = '--secret'): string | undefined {
  const encoded = value.startsWith('whsec_') ? value.slice('whsec_'.length) : undefined;
  const bytes =
    encoded !== undefined && BASE64.test(encoded) ? Buffer.from(encoded, 'base64').length : 0;
  if (bytes >= 24 && bytes <= 64) return undefined;
  return `${option} must be whsec_ and 24 to 64 bytes in base64 (e.g. whsec_$(openssl rand -base64 32)); without it the server generates one`;
}

/** The opaque cursors of the event log (`c1.…`), as `webhooks ls -o wide` and SSE ids show them. */
const CURSOR_PREFIX = 'c1.';

/** A date (`2026-11-01`, midnight UTC) or a time with `Z` or an offset, as the server matches it. */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;
/** A time with neither `Z` nor an offset: which zone it means is a guess, so it is refused. */
const ZONELESS_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/;

/**
 * True when every part of a matched date or time exists (no 30 February, no 25:00): `new Date`
 * would roll 2025-02-30 over to 2 March, and the server refuses it.
 */
function isRealTime(parts: readonly (string | undefined)[]): boolean {
  const [y, mo, d, h, mi, sec, oh, om] = parts.map((part) => Number(part ?? '0'));
  const month = mo ?? 0;
  const day = d ?? 0;
  const daysInMonth = new Date(Date.UTC(y ?? 0, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    (h ?? 0) <= 23 &&
    (mi ?? 0) <= 59 &&
    (sec ?? 0) <= 59 &&
    (oh ?? 0) <= 23 &&
    (om ?? 0) <= 59
  );
}

/** `--from` that starts as a date: the ISO time it names, or a usage error saying what to give. */
function isoArgument(value: string, text: string): string {
  if (ZONELESS_TIME.test(text))
    throw new InvalidArgumentError(
      `"${value}" has no time zone: add Z (UTC) or an offset (2026-11-01T12:00:00Z, 2026-11-01T13:00:00+01:00)`,
    );
  const match = ISO_DATE.exec(text) ?? ISO_TIME.exec(text);
  const time = match === null ? Number.NaN : Date.parse(text);
  if (match === null || !isRealTime(match.slice(1)) || Number.isNaN(time))
    throw new InvalidArgumentError(
      `"${value}" is not a date: give 2026-11-01 or 2026-11-01T12:00:00Z`,
    );
  return new Date(time).toISOString();
}

/**
 * `replay --from`: a cursor or an event id as they are; an ISO date or time, or an age with a
 * unit ("1h": an hour ago), as the ISO time the API takes. A bare number is refused: it is
 * neither a cursor nor a time, and as seconds it would replay almost nothing.
 */
export function fromArgument(now: () => number): (value: string) => string {
  return (value) => {
    const text = value.trim();
    if (text === '')
      throw new InvalidArgumentError('give a cursor, an event id, a date or an age (1h, 2d)');
    if (text.startsWith(CURSOR_PREFIX)) return text;
    if (/^\d+(\.\d+)?$/.test(text))
      throw new InvalidArgumentError(
        `"${value}" has no unit: give an age with one (${text}m, ${text}h), a date (2026-11-01T12:00:00Z), a cursor or an event id`,
      );
    if (/^\d{4}-\d{2}-\d{2}/.test(text)) return isoArgument(value, text);
    const age = parseDuration(text);
    if (age.isOk()) return new Date(now() - age.value).toISOString();
    return text;
  };
}
