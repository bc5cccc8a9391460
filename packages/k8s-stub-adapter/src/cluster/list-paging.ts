import { err, ok, type Result } from 'neverthrow';
import { apiError, type ApiError } from './cluster-api.errors.js';

/**
 * Where a paged list stands. The API server hands it out as its continue token: base64 of a
 * small JSON object, opaque to clients.
 */
export interface ListCursor {
  /** The resource version the list began at: every page of the list reports it. */
  readonly rv: number;
  /** The uid of the last object handed out ('' before the first page). */
  readonly after: string;
  /** The last uid handed out when the list began: objects created since are not listed. */
  readonly until: string;
}

/** The objects of one page, and the cursor of the next when more follow. */
export interface Page<T> {
  readonly items: T[];
  readonly next: ListCursor | undefined;
}

const TOKEN_VERSION = 'meta.k8s.io/v1';

/** The API server's message when a token's resource version has been compacted away. */
export const EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. ' +
  'You can start a new list without the continue parameter.';

/** The continue token of a cursor, bound to one resource of one namespace. */
export function encodeContinue(cursor: ListCursor, prefix: string): string {
  const body = { v: TOKEN_VERSION, rv: cursor.rv, start: `${prefix}${cursor.after}\u0000` };
  return Buffer.from(JSON.stringify({ ...body, until: cursor.until }), 'utf8').toString(
    'base64url',
  );
}

/** The cursor a token carries; 400 BadRequest when it is not one of ours for this list. */
export function decodeContinue(token: string, prefix: string): Result<ListCursor, ApiError> {
  const invalid = (why: string): Result<ListCursor, ApiError> =>
    err(apiError('BadRequest', `invalid continue token: continue key is not valid: ${why}`));
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    return invalid('not base64-encoded JSON');
  }
  if (typeof body !== 'object' || body === null) return invalid('not an object');
  const { v, rv, start, until } = body as Record<string, unknown>;
  if (v !== TOKEN_VERSION)
    return invalid(`incorrect encoded start resourceVersion (version ${String(v)})`);
  if (typeof rv !== 'number' || !Number.isInteger(rv) || rv < 0)
    return invalid('incorrect encoded resourceVersion');
  if (typeof start !== 'string' || !start.startsWith(prefix) || !start.endsWith('\u0000'))
    return invalid('key is not in the list being continued');
  if (typeof until !== 'string') return invalid('no upper bound');
  return ok({ rv, after: start.slice(prefix.length, -1), until });
}

/**
 * One page: up to `limit` of the objects (in uid order, the order they were created in)
 * after the cursor and created before the list began, copied. Each object that exists
 * throughout a list is handed out exactly once; one created after the first page is not;
 * one deleted before its page is not. Unlike etcd's snapshots, a page shows each object as
 * it is now, not as it was when the list began.
 */
export function takePage<T extends { metadata?: { uid?: string } }>(
  objects: Iterable<T>,
  matches: (o: T) => boolean,
  copy: (o: T) => T,
  cursor: ListCursor,
  limit: number,
): Page<T> {
  const items: T[] = [];
  let last = cursor.after;
  for (const o of objects) {
    const uid = o.metadata?.uid ?? '';
    if (uid <= cursor.after || uid > cursor.until || !matches(o)) continue;
    if (items.length >= limit) return { items, next: { ...cursor, after: last } };
    items.push(copy(o));
    last = uid;
  }
  return { items, next: undefined };
}

/** The page size a `limit` asks for: every object when absent or not positive. */
export const pageLimit = (limit: number | undefined): number =>
  limit === undefined || !(limit >= 1) ? Number.POSITIVE_INFINITY : Math.floor(limit);
