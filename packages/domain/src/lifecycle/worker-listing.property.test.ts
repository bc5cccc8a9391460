import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dockerProfile } from '../policy/profiles.js';
import type { ProviderId, WorkerId } from '../worker/ids.js';
import { WORKER_MODES, type WorkerMode } from '../worker/worker-mode.js';
import { isTerminal, WORKER_STATES, type WorkerState } from '../worker/worker-state.js';
import { newWorker, type Worker } from '../worker/worker.js';
import { compareCreationKeys, CreationOrderIndex } from './creation-order-index.js';
import { WorkerRegistry, type WorkerPageRequest } from './worker-registry.js';

const worker = (id: string, createdAt: number, state: WorkerState, mode: WorkerMode): Worker => ({
  ...newWorker({
    id: id as WorkerId,
    providerId: 'p' as ProviderId,
    mode,
    resourceId: `r-${id}`,
    image: 'img',
    policy: dockerProfile,
    createdAt,
  }),
  state,
});

/** What a page must be: everything tracked, filtered, sorted, cut after `after`, sliced. */
function expectedPage(all: readonly Worker[], request: WorkerPageRequest): Worker[] {
  const after = request.after;
  return all
    .filter((w) => request.state === undefined || w.state === request.state)
    .filter((w) => request.mode === undefined || w.mode === request.mode)
    .filter(
      (w) =>
        after === undefined || compareCreationKeys(w, { createdAt: after[0], id: after[1] }) > 0,
    )
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, Math.max(0, request.limit));
}

// Few ids and few times, so ties on createdAt and re-stores of one id are common; ids mix
// cases and code units outside ASCII, where code-unit order differs from locale order.
const idArb = fc.constantFrom('a', 'b', 'B', 'Z', 'aa', 'a-1', 'é', 'ä', '\u{1F600}', 'ﬀ', '0');
const timeArb = fc.integer({ min: 0, max: 5 });
const stateArb = fc.constantFrom(...WORKER_STATES);
const modeArb = fc.constantFrom(...WORKER_MODES);

type Op =
  | { kind: 'store'; id: string; createdAt: number; state: WorkerState; mode: WorkerMode }
  | { kind: 'move'; id: string; state: WorkerState }
  | { kind: 'remove'; id: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('store' as const),
    id: idArb,
    createdAt: timeArb,
    state: stateArb,
    mode: modeArb,
  }),
  fc.record({ kind: fc.constant('move' as const), id: idArb, state: stateArb }),
  fc.record({ kind: fc.constant('remove' as const), id: idArb }),
);

const requestArb: fc.Arbitrary<WorkerPageRequest> = fc.record(
  {
    after: fc.tuple(timeArb, idArb),
    limit: fc.integer({ min: -1, max: 12 }),
    state: stateArb,
    mode: modeArb,
  },
  { requiredKeys: ['limit'] },
);

function apply(registry: WorkerRegistry, op: Op): void {
  switch (op.kind) {
    case 'store':
      registry.store(worker(op.id, op.createdAt, op.state, op.mode));
      return;
    case 'move': {
      const w = registry.get(op.id);
      if (w !== undefined) registry.store({ ...w, state: op.state });
      return;
    }
    case 'remove':
      registry.remove(op.id);
      return;
  }
}

describe('worker listing index', () => {
  it('pages agree with sort + filter + slice over the stored workers after any stores and removes', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 60 }),
        fc.array(requestArb, { minLength: 1, maxLength: 8 }),
        (ops, requests) => {
          const registry = new WorkerRegistry();
          for (const op of ops) {
            apply(registry, op);
            const all = registry.list();
            expect(registry.liveCount).toBe(all.filter((w) => !isTerminal(w.state)).length);
            for (const request of requests) {
              expect(registry.page(request)).toEqual(expectedPage(all, request));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('walks every worker once, in order, page after page from the last key', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 5 }),
        fc.option(stateArb, { nil: undefined }),
        (ops, limit, state) => {
          const registry = new WorkerRegistry();
          for (const op of ops) apply(registry, op);
          const walked: Worker[] = [];
          let after: readonly [number, string] | undefined;
          // Bounded, so a page that fails to move on fails the test instead of hanging it.
          for (let pages = 0; pages <= ops.length; pages++) {
            const page = registry.page({ after, limit, state });
            walked.push(...page);
            const last = page.at(-1);
            if (page.length < limit || last === undefined) break;
            after = [last.createdAt, last.id];
          }
          expect(walked).toEqual(expectedPage(registry.list(), { limit: Infinity, state }));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('CreationOrderIndex', () => {
  it('agrees with a sorted array of distinct keys through adds, deletes and pages, chunks split and emptied', () => {
    const keyArb = fc.record({ createdAt: fc.integer({ min: 0, max: 20 }), id: idArb });
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.array(fc.tuple(fc.boolean(), keyArb), { maxLength: 200 }),
        fc.array(fc.tuple(fc.option(keyArb, { nil: undefined }), fc.integer({ min: 0, max: 30 }))),
        (chunkSize, changes, pages) => {
          const index = new CreationOrderIndex(chunkSize);
          let model: { createdAt: number; id: string }[] = [];
          for (const [adding, key] of changes) {
            const rest = model.filter((k) => compareCreationKeys(k, key) !== 0);
            if (adding) {
              index.add(key);
              model = [...rest, key].sort(compareCreationKeys);
            } else {
              index.delete(key);
              model = rest;
            }
            expect(index.size).toBe(model.length);
          }
          expect(index.page(undefined, Infinity)).toEqual(model);
          for (const [after, limit] of pages) {
            const from =
              after === undefined ? model : model.filter((k) => compareCreationKeys(k, after) > 0);
            expect(index.page(after, limit)).toEqual(from.slice(0, limit));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('orders by createdAt, then by id in code units', () => {
    const index = new CreationOrderIndex();
    for (const [createdAt, id] of [
      [2, 'a'],
      [1, 'b'],
      [1, 'B'],
      [1, 'é'],
      [1, 'aa'],
    ] as const) {
      index.add({ createdAt, id });
    }
    expect(index.page(undefined, 10).map((k) => `${k.createdAt}:${k.id}`)).toEqual([
      '1:B',
      '1:aa',
      '1:b',
      '1:é',
      '2:a',
    ]);
  });

  it('keeps one entry per key and starts a page strictly after a key it does not hold', () => {
    const index = new CreationOrderIndex();
    index.add({ createdAt: 1, id: 'a' });
    index.add({ createdAt: 1, id: 'a' });
    index.add({ createdAt: 3, id: 'c' });
    expect(index.size).toBe(2);
    expect(index.page({ createdAt: 2, id: 'zzz' }, 10)).toEqual([{ createdAt: 3, id: 'c' }]);
    expect(index.page({ createdAt: 1, id: 'a' }, 0)).toEqual([]);
    index.delete({ createdAt: 1, id: 'a' });
    index.delete({ createdAt: 9, id: 'absent' });
    expect(index.page(undefined, 10)).toEqual([{ createdAt: 3, id: 'c' }]);
  });
});
