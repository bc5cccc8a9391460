import { silentLogger, type WorkerMode } from '@hodei/domain';
import { lifecycleHarness, type LifecycleHarness } from '@hodei/domain/testing';
import { ok } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { RecoveryGate } from '../passes/recovery-gate.js';
import type { ProviderEntry } from './provider-entry.js';
import { WorkerLookup } from './worker-lookup.js';
import { WorkerQueries } from './worker-queries.js';

function entryOf(h: LifecycleHarness, id: string): ProviderEntry {
  return {
    id: id as ProviderEntry['id'],
    kind: 'docker',
    provider: h.provider,
    policy: h.policy,
    lifecycle: {
      manager: h.manager,
      managed: h.managed,
      recovery: new RecoveryGate(id, h.manager, silentLogger),
    },
  };
}

/** Two providers whose workers were created interleaved in time, some with equal times. */
async function twoProviders(): Promise<{ queries: WorkerQueries; expected: string[] }> {
  const a = lifecycleHarness({ providerId: 'a' });
  const b = lifecycleHarness({ providerId: 'b' });
  const created: { at: number; id: string; mode: WorkerMode }[] = [];
  for (let i = 0; i < 23; i++) {
    const h = i % 3 === 0 ? b : a;
    const mode: WorkerMode = i % 2 === 0 ? 'agent' : 'job';
    // Both clocks move together; every third step keeps the time, so ids break the tie.
    if (i % 3 !== 2) {
      a.clock.advance(7);
      b.clock.advance(7);
    }
    const id = `w-${String.fromCharCode(122 - i)}`;
    await h.create({ workerId: id as never, mode });
    created.push({ at: h.clock.now(), id, mode });
  }
  const entries = [entryOf(a, 'a'), entryOf(b, 'b')];
  const lookup = new WorkerLookup(entries, entries[0]!);
  const queries = new WorkerQueries(lookup, { eventsOfWorker: () => Promise.resolve(ok([])) });
  const expected = created
    .sort((x, y) => x.at - y.at || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
    .map((w) => w.id);
  return { queries, expected };
}

async function walk(
  queries: WorkerQueries,
  request: { limit: number; mode?: WorkerMode; providerId?: string },
): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = (
      await queries.list({ ...request, ...(cursor === undefined ? {} : { cursor }) })
    )._unsafeUnwrap();
    expect(page.items.length).toBeLessThanOrEqual(request.limit);
    seen.push(...page.items.map((w) => w.id));
    if (page.nextCursor === null) return seen;
    cursor = page.nextCursor;
  }
  throw new Error('the pages never ended');
}

describe('WorkerQueries.list', () => {
  it('pages through every provider in creation order, each worker once, for any page size', async () => {
    const { queries, expected } = await twoProviders();
    for (const limit of [1, 2, 5, 22, 23, 24, 100]) {
      expect(await walk(queries, { limit })).toEqual(expected);
    }
  });

  it('keeps the order when filtered by mode or provider', async () => {
    const { queries, expected } = await twoProviders();
    const all = (await queries.list({ limit: 100 }))._unsafeUnwrap().items;
    const modeOf = new Map(all.map((w) => [w.id, w.mode]));
    const providerOf = new Map(all.map((w) => [w.id, w.providerId]));
    expect(await walk(queries, { limit: 3, mode: 'job' })).toEqual(
      expected.filter((id) => modeOf.get(id) === 'job'),
    );
    expect(await walk(queries, { limit: 4, providerId: 'b' })).toEqual(
      expected.filter((id) => providerOf.get(id) === 'b'),
    );
  });

  it('answers the last page with no cursor, and a foreign cursor with 400', async () => {
    const { queries } = await twoProviders();
    expect((await queries.list({ limit: 23 }))._unsafeUnwrap().nextCursor).toBeNull();
    expect((await queries.list({ limit: 1, cursor: 'nonsense' }))._unsafeUnwrapErr().type).toBe(
      'ValidationFailed',
    );
  });
});
