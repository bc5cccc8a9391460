/**
 * Benchmark (not a test): the deadline pass over 100,000 tracked workers of which 1 % are
 * due, against naive full-scan passes over the same workers in the same run, interleaved;
 * then a pass over 100 workers whose stops take their 30 s grace (stops-in-background.bench.ts).
 *   pnpm --filter @hodei/domain bench
 *   BENCH_ONLY=grace | BENCH_ONLY=scan   runs one part
 */
import type { WorkerHandle, WorkerSpec } from '../ports/worker-provider.port.js';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { ManualClock } from '../testing/manual-clock.js';
import { SequentialIdGenerator } from '../testing/sequential-id-generator.js';
import { DeadlineIndex } from './deadline-index.js';
import { dueRule, nextDeadline } from './deadlines.js';
import { KeyedMutex } from './keyed-mutex.js';
import { LifecycleManager } from './lifecycle-manager.js';
import { stopsInBackgroundBench } from './stops-in-background.bench.js';
import { benchProvider, droppingPublisher } from './bench-ports.bench.js';

const TRACKED = Number(process.env['BENCH_TRACKED'] ?? 100_000);
const DUE = TRACKED / 100;
const REPETITIONS = 15;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

/** A provider whose calls cost nothing, so the pass itself is what is measured. */
const provider = benchProvider();
const publisher = droppingPublisher;

// Lifetimes long enough that only the finished workers fall due, however long the run.
const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(30 * 24 * 3600 * 1000)
  .ttlAfterCompletion(60_000)
  .build()
  ._unsafeUnwrap();
const clock = new ManualClock(0);
const ids = new SequentialIdGenerator('b');
const manager = new LifecycleManager({ provider, publisher, clock, ids, policy, concurrency: 64 });

let sequence = 0;
async function track(count: number, finished: boolean): Promise<void> {
  for (let i = 0; i < count; i++) {
    const workerId = ids.workerId();
    const handle: WorkerHandle = {
      workerId,
      resourceId: `container-${(++sequence).toString(16).padStart(12, '0')}`,
      providerId: provider.providerId,
      createdAt: clock.now(),
    };
    const spec: WorkerSpec = { workerId, mode: 'job', image: 'hodei/worker:0.1.0', policy };
    await manager.initializeWorker(handle, spec);
    await manager.markWorkerReady(workerId);
    await manager.markWorkerBusy(workerId);
    if (finished) await manager.markWorkerTerminated(workerId, { exitCode: 0, forced: false });
  }
}

/** Makes `DUE` workers due: finished a TTL ago. */
async function makeDue(): Promise<void> {
  await track(DUE, true);
  clock.advance(60_000);
}

/** The seed's pass: visit every worker and ask, under its lock, whether it needs cleanup. */
const locks = new KeyedMutex();
async function seedStyleScan(): Promise<number> {
  let cleaned = 0;
  for (const w of manager.listWorkers()) {
    const due = await locks.run(w.id, () => Promise.resolve(manager.needsCleanup(w.id)));
    if (due) {
      await provider.destroyWorker(manager.handleOf(w), { gracePeriod: 0 });
      await manager.cleanupWorker(w.id, 'TtlExpired');
      cleaned += 1;
    }
  }
  return cleaned;
}

/** The best a scan can do: one synchronous pass over every worker, then the same actions. */
async function tightScan(): Promise<number> {
  const now = clock.now();
  const due = [];
  for (const w of manager.listWorkers()) if (dueRule(w, now) === 'ttl') due.push(w);
  for (const w of due) {
    await provider.destroyWorker(manager.handleOf(w), { gracePeriod: 0 });
    await manager.cleanupWorker(w.id, 'TtlExpired');
  }
  return due.length;
}

async function indexedPass(): Promise<number> {
  return (await manager.runGcCycle())._unsafeUnwrap().workersCleaned;
}

async function time(pass: () => Promise<number>): Promise<number> {
  await makeDue();
  gc?.();
  const start = process.hrtime.bigint();
  const cleaned = await pass();
  const ns = Number(process.hrtime.bigint() - start);
  if (cleaned !== DUE) throw new Error(`a pass cleaned ${cleaned} workers, expected ${DUE}`);
  if (manager.trackedCount !== TRACKED) throw new Error(`tracked ${manager.trackedCount}`);
  return ns / 1e6;
}

/** Finding the due workers alone: popping the index against scanning every worker. */
function selectionSamples(): { index: number; scan: number } {
  const workers = manager.listWorkers();
  const index = new DeadlineIndex();
  for (const w of workers) index.set(w.id, nextDeadline(w));
  const now = clock.now();
  let start = process.hrtime.bigint();
  const popped = index.popDue(now).length;
  const indexMs = Number(process.hrtime.bigint() - start) / 1e6;
  start = process.hrtime.bigint();
  let scanned = 0;
  for (const w of manager.listWorkers()) if (dueRule(w, now) !== null) scanned += 1;
  const scanMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (popped !== DUE || scanned !== DUE)
    throw new Error(`selected ${popped} and ${scanned}, expected ${DUE}`);
  return { index: indexMs, scan: scanMs };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  gc?.();
  const before = process.memoryUsage().heapUsed;
  await track(TRACKED, false);
  gc?.();
  const after = process.memoryUsage().heapUsed;
  const bytesPerWorker = (after - before) / TRACKED;

  const samples = {
    indexed: [] as number[],
    seed: [] as number[],
    tight: [] as number[],
    selectIndex: [] as number[],
    selectScan: [] as number[],
  };
  // Warm up each path once, then interleave so machine noise hits all alike.
  await time(indexedPass);
  await time(seedStyleScan);
  await time(tightScan);
  for (let i = 0; i < REPETITIONS; i++) {
    await makeDue();
    const selection = selectionSamples();
    samples.selectIndex.push(selection.index);
    samples.selectScan.push(selection.scan);
    await tightScan();
    samples.indexed.push(await time(indexedPass));
    samples.seed.push(await time(seedStyleScan));
    samples.tight.push(await time(tightScan));
  }
  const indexed = median(samples.indexed);
  const seed = median(samples.seed);
  const tight = median(samples.tight);
  const selectIndex = median(samples.selectIndex);
  const selectScan = median(samples.selectScan);
  const fmt = (n: number) => n.toFixed(2).padStart(8);
  console.log(
    `deadline pass: ${TRACKED} tracked workers, ${DUE} due (1 %), ${REPETITIONS} interleaved runs, medians`,
  );
  console.log(`  finding the due workers: index        ${fmt(selectIndex)} ms`);
  console.log(
    `  finding the due workers: full scan    ${fmt(selectScan)} ms   ratio ${(selectScan / selectIndex).toFixed(1)}x  (target >= 20x)`,
  );
  console.log(`  whole pass, indexed (runGcCycle)      ${fmt(indexed)} ms`);
  console.log(
    `  whole pass, seed-style scan           ${fmt(seed)} ms   ratio ${(seed / indexed).toFixed(1)}x`,
  );
  console.log(
    `  whole pass, tight synchronous scan    ${fmt(tight)} ms   ratio ${(tight / indexed).toFixed(1)}x`,
  );
  console.log(
    `  heap per tracked worker               ${bytesPerWorker.toFixed(0).padStart(8)} bytes (target < 1024)`,
  );
}

const only = process.env['BENCH_ONLY'];
if (only !== 'grace') await main();
if (only !== 'scan') await stopsInBackgroundBench();
