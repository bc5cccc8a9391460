import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 9110 §11.1: the scheme is case-insensitive, one or more spaces before the credentials. */
const BEARER = /^bearer +(\S+) *$/i;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Whether an `Authorization` header carries `token`. Constant-time: both sides are hashed
 * first, so neither the content nor the length leaks.
 */
export function bearerTokenMatches(header: string | undefined, token: string): boolean {
  const given = header === undefined ? undefined : BEARER.exec(header)?.[1];
  if (given === undefined) return false;
  return tokensMatch(given, token);
}

/** Whether `given` is `token`, in constant time (the sign-in's token, from its body). */
export function tokensMatch(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}
