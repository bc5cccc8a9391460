import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChurn } from './churn.js';
import { startFaultRig, type FaultRig } from './fault-rig.js';
import { mountSmallTmpfs, type SmallTmpfs } from './fault-services.js';
import { ALL_ZERO, countsOf } from './invariants.js';

/**
 * The data dir is full (a 1 MiB tmpfs, filled) while PostgreSQL is down: a spool that cannot
 * be written must refuse API writes with 503 PublisherBackpressure before anything changes,
 * rather than answer 201 and lose the event (item 5a, 5b).
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('the data dir full while PostgreSQL is down', () => {
  let tmpfs: SmallTmpfs | undefined;
  let rig: FaultRig | undefined;
  const t0 = Date.now();

  beforeAll(async () => {
    tmpfs = await mountSmallTmpfs(1024);
    rig = await startFaultRig({ dataDir: tmpfs.dir });
  }, 120_000);

  afterAll(async () => {
    await rig?.teardown();
    await tmpfs?.unmount();
    console.log(`data-dir-full.fault: ${Math.round((Date.now() - t0) / 1000)} s`);
  }, 120_000);

  it('refuses writes it cannot record and loses no event', async () => {
    const r = rig as FaultRig;
    const disk = tmpfs as SmallTmpfs;
    const churn = startChurn(r.server, { workers: 120 });
    await sleep(4000);
    await disk.fill();
    await r.postgres.stopImmediate();
    const outage = { from: Date.now(), to: 0 };
    await sleep(20_000);
    outage.to = Date.now();
    await r.postgres.start();
    await disk.unfill();
    const report = await churn.done;
    await sleep(5000);
    const checked = await r.check('data-dir-full', report);
    // Writes during the outage: refused with a documented 503 (PublisherBackpressure, or
    // ProviderNotRecovered while the provider lock is gone with the database), or acknowledged
    // with their events kept (the checker's lostEvents).
    const during = report.answers.filter((a) => a.at >= outage.from && a.at <= outage.to);
    const refused = during.filter((a) => a.status === 503).length;
    const by = (a: { status: number; error?: string }) => `${a.status} ${a.error ?? ''}`.trim();
    const counts: Record<string, number> = {};
    for (const a of during) counts[by(a)] = (counts[by(a)] ?? 0) + 1;
    console.log(`data-dir-full: answers during the outage ${JSON.stringify(counts)}`);
    expect(report.created).toBeGreaterThanOrEqual(100);
    expect(countsOf(checked)).toEqual(ALL_ZERO);
    expect(refused).toBeGreaterThan(0);
  }, 400_000);
});
