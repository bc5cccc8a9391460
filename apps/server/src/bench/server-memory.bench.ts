/**
 * Benchmark (not a test), `node --expose-gc --import tsx src/bench/server-memory.bench.ts`:
 * heap per tracked worker of a whole server in this process on the simulated cluster
 * (`k8s-stub`), without and with a database, at 1,000 and 10,000 workers created through the
 * HTTP API, after a forced GC. The simulated cluster's own objects (Jobs, Pods: what a
 * Kubernetes API server would hold) are measured apart, in a cluster alone holding as many
 * workers, and subtracted: the rest is the server's share. Goals: server < 2 KiB, cluster
 * < 4 KiB per worker. Rounds: `BENCH_ROUNDS` (3) at 1,000, `BENCH_LARGE_ROUNDS` (1) at 10,000,
 * where one round (two servers, 10,000 creates each) takes a minute or two; `BENCH_SIZES`
 * and `BENCH_MODES` (memory,database) to run a part. Runs in about six minutes.
 */
import { kubernetesProfile, type ProviderId, type WorkerId } from '@hodei/domain';
import { systemClock } from '@hodei/domain/system';
import { KubernetesStubWorkerProvider, SimulatedCluster } from '@hodei/k8s-stub-adapter';
import type { HodeiServer } from '../composition/hodei-server.js';
import { TOKENS } from '../composition/tokens.js';
import { createTestDatabase, tempDataDir } from '../testing/server-process.js';
import { startTestServer, TEST_TOKEN } from '../testing/test-server.js';

const SIZES = (process.env['BENCH_SIZES'] ?? '1000,10000').split(',').map(Number);
const MODES = (process.env['BENCH_MODES'] ?? 'memory,database')
  .split(',')
  .map((m) => m === 'database');
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const LARGE_ROUNDS = Number(process.env['BENCH_LARGE_ROUNDS'] ?? 1);
const roundsAt = (workers: number) => (workers >= 5_000 ? LARGE_ROUNDS : ROUNDS);
const GOAL_SERVER = 2_048;
const GOAL_CLUSTER = 4_096;
const CONCURRENCY = 32;
/**
 * Workers made before the first measurement: what the first few cost once (code compiled,
 * pools opened, the server's fixed structures) is not a per-worker cost.
 */
const WARM_UP = 200;
const TICK_MS = 100;
/** Long enough for the pods to run and the workers to turn ready. */
const SETTLE_MS = 3_000;

const gc = (globalThis as { gc?: () => void }).gc;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function heapUsed(): Promise<number> {
  // Twice, with a turn of the loop between: weak maps and finalizers settle on the second.
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

const stats = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? NaN, median: s[s.length >> 1] ?? NaN, max: s.at(-1) ?? NaN };
};
const fmt = (xs: readonly number[]) => {
  const { min, median, max } = stats(xs);
  return [min, median, max].map((n) => n.toFixed(0).padStart(7)).join(' ');
};

/** Runs `task(0 … count-1)`, `CONCURRENCY` at a time. */
async function inParallel(count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < count; i = next++) await task(i);
    }),
  );
}

const progress = (line: string) => process.stderr.write(`  … ${line}\n`);

/** The cluster alone: `workers` jobs made through the provider, pods running. */
async function clusterPerWorker(workers: number): Promise<number> {
  const cluster = new SimulatedCluster(systemClock, {});
  const running = cluster.runInRealTime(TICK_MS);
  const provider = new KubernetesStubWorkerProvider({
    providerId: 'bench' as ProviderId,
    cluster,
  });
  const create = (from: number, to: number) =>
    inParallel(to - from, async (n) => {
      const i = from + n;
      const made = await provider.createWorker({
        workerId: `mem-${i}` as WorkerId,
        mode: 'agent',
        image: 'hodei/worker:0.1.0',
        command: ['sleep', 'infinity'],
        policy: kubernetesProfile,
      });
      if (made.isErr()) throw new Error(`cluster create: ${made.error.message}`);
    });
  await create(0, WARM_UP);
  await sleep(SETTLE_MS);
  const before = await heapUsed();
  await create(WARM_UP, workers);
  await sleep(SETTLE_MS);
  const after = await heapUsed();
  running.stop();
  // Kept alive up to the measurement.
  if (cluster.allPods('default').length < workers) throw new Error('pods missing');
  return (after - before) / (workers - WARM_UP);
}

const trackedWorkers = (server: HodeiServer): number =>
  server.container
    .resolve(TOKENS.providers)
    .reduce((n, p) => n + (p.lifecycle?.manager.listWorkers().length ?? 0), 0);

/** A whole server holding `workers` workers made over HTTP: heap per worker. */
async function serverPerWorker(workers: number, withDatabase: boolean): Promise<number> {
  const db = withDatabase ? await createTestDatabase() : undefined;
  const dataDir = await tempDataDir();
  const t = await startTestServer(
    {
      HODEI_MAX_WORKERS: String(2 * workers),
      HODEI_GC_INTERVAL_SECONDS: '3600',
      HODEI_RECONCILE_INTERVAL_SECONDS: '3600',
      HODEI_DATA_DIR: dataDir,
      ...(db === undefined ? {} : { DATABASE_URL: db.url, HODEI_EVENT_PUBLISHER: 'postgres' }),
    },
    { clusterTickMs: TICK_MS },
  );
  try {
    const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
    const create = (from: number, to: number) =>
      inParallel(to - from, async (n) => {
        const i = from + n;
        const r = await fetch(`${t.url}/v1/workers`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ id: `mem-${i}`, mode: 'agent', command: ['sleep', 'infinity'] }),
        });
        const body = await r.text();
        if (r.status !== 201) throw new Error(`create answered ${r.status}: ${body}`);
      });
    await create(0, WARM_UP);
    await sleep(SETTLE_MS);
    const before = await heapUsed();
    const started = Date.now();
    await create(WARM_UP, workers);
    progress(`${workers - WARM_UP} created over HTTP in ${Date.now() - started} ms`);
    await sleep(SETTLE_MS);
    const after = await heapUsed();
    const tracked = trackedWorkers(t.server);
    if (tracked !== workers) throw new Error(`${tracked} workers tracked, ${workers} created`);
    return (after - before) / (workers - WARM_UP);
  } finally {
    await t.stop();
    await db?.drop();
  }
}

interface Row {
  readonly label: string;
  readonly total: number[];
  readonly cluster: number[];
  readonly server: number[];
}

async function main(): Promise<void> {
  if (gc === undefined) console.log('  (NO --expose-gc: heap figures include garbage)');
  const rows: Row[] = [];
  for (const workers of SIZES) {
    const cluster: number[] = [];
    for (let r = 0; r < roundsAt(workers); r++) cluster.push(await clusterPerWorker(workers));
    const clusterMedian = stats(cluster).median;
    for (const withDatabase of MODES) {
      const total: number[] = [];
      for (let r = 0; r < roundsAt(workers); r++) {
        total.push(await serverPerWorker(workers, withDatabase));
      }
      rows.push({
        label: `${String(workers).padStart(6)} workers, ${withDatabase ? 'database   ' : 'no database'}`,
        total,
        cluster,
        server: total.map((x) => x - clusterMedian),
      });
    }
  }
  console.log(
    `heap per tracked worker after forced GC, bytes, min / median / max (${ROUNDS} rounds, ${LARGE_ROUNDS} at 10,000)`,
  );
  console.log(
    `  ${''.padEnd(32)} ${'whole server (incl. cluster)'.padEnd(24)}  ${'cluster alone'.padEnd(24)}  server share (goal < ${GOAL_SERVER})`,
  );
  for (const row of rows) {
    const ok = stats(row.server).median < GOAL_SERVER ? 'ok' : 'OVER';
    console.log(
      `  ${row.label.padEnd(32)} ${fmt(row.total)}   ${fmt(row.cluster)}   ${fmt(row.server)}  ${ok}`,
    );
  }
  const large = rows.filter((r) => r.label.includes(String(SIZES.at(-1))));
  for (const row of large) {
    console.log(
      `  at ${SIZES.at(-1)}, ${row.label.slice(15).trim()}: server ${stats(row.server).median.toFixed(0)} B (goal < ${GOAL_SERVER}), cluster ${stats(row.cluster).median.toFixed(0)} B (goal < ${GOAL_CLUSTER})`,
    );
  }
}

await main();
