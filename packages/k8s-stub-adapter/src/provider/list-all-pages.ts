import { setImmediate as nextTurn } from 'node:timers/promises';
import { err, ok, type Result } from 'neverthrow';
import type { ApiError } from '../cluster/cluster-api.errors.js';
import type { ObjectList } from '../cluster/cluster-types.js';

/**
 * Work in steps: each `yield` is a point where the event loop may have a turn. Written as a
 * generator so that work of a single step runs at once, synchronously, as before paging.
 */
export type Steps<T> = Generator<undefined, T, undefined>;

/** Lists begun again at most this often when their continue token expires mid-way. */
const RESTARTS = 2;

/**
 * Runs the steps, synchronously up to the first `yield`, then one step per turn of the event
 * loop (a `setImmediate`, not the cluster's clock: a manual clock stands still meanwhile).
 */
export function runSteps<T>(steps: Steps<T>): Promise<T> {
  let step = steps.next();
  if (step.done === true) return Promise.resolve(step.value);
  return (async () => {
    while (step.done !== true) {
      await nextTurn();
      step = steps.next();
    }
    return step.value;
  })();
}

/**
 * Every object of a list, fetched `limit` at a time as a Kubernetes client pages: each page
 * carries on from the last one's `continue` token, with a step between pages. A list whose
 * token expires (410 Gone) starts over, as client-go's pager does.
 */
export function* listAllPages<T>(
  fetchPage: (options: { limit: number; continue?: string }) => Result<ObjectList<T>, ApiError>,
  limit: number,
): Steps<Result<T[], ApiError>> {
  for (let attempt = 0; ; attempt++) {
    const items: T[] = [];
    let token: string | undefined;
    for (;;) {
      const page = fetchPage(token === undefined ? { limit } : { limit, continue: token });
      if (page.isErr()) {
        if (page.error.reason === 'Expired' && token !== undefined && attempt < RESTARTS) break;
        return err(page.error);
      }
      for (const item of page.value.items) items.push(item);
      token = page.value.metadata.continue;
      if (token === undefined) return ok(items);
      yield;
    }
  }
}

/** Runs `fn` over `items` in chunks of `size`, with a step between chunks. */
export function* forEachChunk<T>(
  items: readonly T[],
  size: number,
  fn: (item: T) => void,
): Steps<void> {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % size === 0) yield;
    fn(items[i] as T);
  }
}
