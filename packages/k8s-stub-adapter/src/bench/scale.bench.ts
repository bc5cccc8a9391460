/**
 * Benchmark (not a test): how the simulated cluster scales with the number of workers.
 *   pnpm --filter @hodei/k8s-stub-adapter bench
 * At 1,000, 5,000 and 10,000 workers (Jobs created through the provider, pods running) it
 * times listManagedWorkers, getWorkerStatus and one controller tick of the settled cluster, and
 * weighs the heap per worker after a forced GC. Per-worker figures at 10,000 are set beside the
 * same figures at 1,000 (the baseline, measured in the same run): the goal is flat, ≤ 1.5×.
 * listManagedWorkers is timed in pages (the provider's default) from call to result, with its
 * longest synchronous block (the longest gap between two turns of the event loop meanwhile),
 * beside the same listing in one page, the baseline: one block as long as the whole call.
 * Knobs: BENCH_SIZES=1000,5000,10000  BENCH_ROUNDS=5  BENCH_STATUS_CALLS=200
 * BENCH_PAGE_SIZE=200.
 */
import {
  kubernetesProfile,
  type ProviderId,
  type WorkerHandle,
  type WorkerId,
} from '@hodei/domain';
import { ManualClock } from '@hodei/domain/testing';
import { bench, describe } from 'vitest';
import { SimulatedCluster } from '../cluster/simulated-cluster.js';
import { jobNameOf } from '../provider/job-manifest.js';
import { KubernetesStubWorkerProvider } from '../provider/kubernetes-stub-worker-provider.js';

const SIZES = (process.env['BENCH_SIZES'] ?? '1000,5000,10000').split(',').map(Number);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const STATUS_CALLS = Number(process.env['BENCH_STATUS_CALLS'] ?? 200);
/** The paged provider's `listPageSize` (its default, 500, unless set). */
const PAGE_SIZE = Number(process.env['BENCH_PAGE_SIZE'] ?? 200);
const HEAP_GOAL_BYTES = 4 * 1024;
const FLAT_GOAL = 1.5;
/** The server's event-loop lag goal (p99): no block of a listing may come near it. */
const BLOCK_GOAL_MS = 50;

const gc = (globalThis as { gc?: () => void }).gc;

interface Figures {
  /** One listManagedWorkers call in pages of 500 (the default), ms from call to result. */
  readonly list: number[];
  /** Its longest synchronous block: the longest gap between two turns of the event loop, ms. */
  readonly listBlock: number[];
  /** The baseline: one listManagedWorkers call in one page (one synchronous block), ms. */
  readonly listWhole: number[];
  /** One getWorkerStatus call, µs (the mean over STATUS_CALLS calls, per round). */
  readonly status: number[];
  /** One tick of the settled cluster, ms. */
  readonly tick: number[];
  /** Heap after a forced GC per worker, bytes (one sample per round of a fresh cluster). */
  readonly heap: number[];
}

const heapUsed = (): number => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};

const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

interface Sim {
  readonly clock: ManualClock;
  readonly cluster: SimulatedCluster;
  readonly provider: KubernetesStubWorkerProvider;
  /** A provider on the same cluster listing in one page: the baseline. */
  readonly whole: KubernetesStubWorkerProvider;
}

const workerIdOf = (i: number): WorkerId => `w-${i}` as WorkerId;

/** A cluster with `workers` running worker pods, made through the provider. */
async function settledCluster(workers: number): Promise<Sim> {
  const clock = new ManualClock();
  const cluster = new SimulatedCluster(clock, { seed: 1 });
  const provider = new KubernetesStubWorkerProvider({
    providerId: 'bench' as ProviderId,
    cluster,
    listPageSize: PAGE_SIZE,
  });
  for (let i = 0; i < workers; i++) {
    const spec = {
      workerId: workerIdOf(i),
      mode: 'agent' as const,
      image: 'hodei/worker:0.1.0',
      command: ['sleep', 'infinity'],
      policy: kubernetesProfile,
    };
    (await provider.createWorker(spec))._unsafeUnwrap();
  }
  // Pods created, scheduled, then started (start latency at most 1.5 s).
  for (let t = 0; t < 4; t++) {
    clock.advance(1_000);
    cluster.tick();
  }
  const running = cluster.allPods('default').filter((p) => p.status?.phase === 'Running').length;
  if (running !== workers) throw new Error(`${running} of ${workers} pods running`);
  const whole = new KubernetesStubWorkerProvider({
    providerId: 'bench' as ProviderId,
    cluster,
    listPageSize: Number.POSITIVE_INFINITY,
  });
  return { clock, cluster, provider, whole };
}

/** A listing's total time and its longest block (gaps between turns of the event loop). */
async function timedList(
  provider: KubernetesStubWorkerProvider,
): Promise<{ total: number; block: number; listed: number }> {
  let done = false;
  let longest = 0;
  const start = process.hrtime.bigint();
  let last = start;
  const turn = (): void => {
    const now = process.hrtime.bigint();
    longest = Math.max(longest, Number(now - last) / 1e6);
    last = now;
    if (!done) setImmediate(turn);
  };
  const listing = provider.listManagedWorkers();
  setImmediate(turn);
  const listed = (await listing)._unsafeUnwrap().length;
  done = true;
  const total = elapsedMs(start);
  longest = Math.max(longest, Number(process.hrtime.bigint() - last) / 1e6);
  return { total, block: longest, listed };
}

/** A handle as the manager keeps it (built here, so the bench holds nothing per worker). */
const handleOf = (i: number): WorkerHandle => ({
  workerId: workerIdOf(i),
  resourceId: jobNameOf(workerIdOf(i)),
  providerId: 'bench' as ProviderId,
  createdAt: 0,
});

async function round(workers: number, figures: Figures, holder: { sim?: Sim }): Promise<void> {
  const before = heapUsed();
  holder.sim = await settledCluster(workers);
  figures.heap.push((heapUsed() - before) / workers);
  const { clock, cluster, provider, whole } = holder.sim;

  const paged = await timedList(provider);
  figures.list.push(paged.total);
  figures.listBlock.push(paged.block);
  const once = await timedList(whole);
  figures.listWhole.push(once.total);
  for (const n of [paged.listed, once.listed])
    if (n !== workers) throw new Error(`listed ${n} of ${workers}`);

  let start: bigint;

  const step = Math.max(1, Math.floor(workers / STATUS_CALLS));
  start = process.hrtime.bigint();
  for (let i = 0; i < STATUS_CALLS; i++) {
    const status = (await provider.getWorkerStatus(handleOf((i * step) % workers)))._unsafeUnwrap();
    if (status.state !== 'running') throw new Error(`status ${status.state}`);
  }
  figures.status.push((elapsedMs(start) * 1_000) / STATUS_CALLS);

  clock.advance(250);
  start = process.hrtime.bigint();
  cluster.tick();
  figures.tick.push(elapsedMs(start));
}

async function measure(workers: number): Promise<Figures> {
  const figures: Figures = {
    list: [],
    listBlock: [],
    listWhole: [],
    status: [],
    tick: [],
    heap: [],
  };
  // The cluster of a round is dropped before the next is weighed.
  const holder: { sim?: Sim } = {};
  for (let i = 0; i < ROUNDS; i++) {
    await round(workers, figures, holder);
    delete holder.sim;
  }
  return figures;
}

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const median = (xs: readonly number[]): number => {
  const s = sorted(xs);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const spread = (xs: readonly number[], digits: number): string => {
  const s = sorted(xs);
  const f = (n: number): string => n.toFixed(digits);
  return `${f(s[0]!)} / ${f(median(s))} / ${f(s[s.length - 1]!)}`.padStart(26);
};

function report(results: ReadonlyMap<number, Figures>): void {
  const lines: string[] = [];
  lines.push(
    `simulated Kubernetes at scale: ${ROUNDS} rounds per size, min / median / max` +
      (gc === undefined ? '  (NO --expose-gc: heap figures include garbage)' : ''),
  );
  const rows: [string, keyof Figures, number][] = [
    ['listManagedWorkers in one page (baseline: one block), ms per call', 'listWhole', 2],
    [`listManagedWorkers in pages of ${PAGE_SIZE}, ms from call to result`, 'list', 2],
    [`  its longest synchronous block, ms (goal ≤ ${BLOCK_GOAL_MS})`, 'listBlock', 2],
    [`getWorkerStatus, µs per call (${STATUS_CALLS} calls)`, 'status', 1],
    ['one tick of the settled cluster, ms', 'tick', 2],
    ['heap per worker after GC, bytes', 'heap', 0],
  ];
  for (const [title, key, digits] of rows) {
    lines.push(`  ${title}`);
    for (const [workers, figures] of results)
      lines.push(`    ${String(workers).padStart(6)} workers ${spread(figures[key], digits)}`);
  }
  const small = results.get(Math.min(...results.keys()));
  const largeSize = Math.max(...results.keys());
  const large = results.get(largeSize);
  const smallSize = Math.min(...results.keys());
  if (small !== undefined && large !== undefined && largeSize > smallSize) {
    const scale = largeSize / smallSize;
    // Per-worker cost: list and tick cover every worker, a status call and the heap one.
    const ratio = (key: keyof Figures, perWorker: boolean): string =>
      (median(large[key]) / median(small[key]) / (perWorker ? scale : 1)).toFixed(2);
    lines.push(
      `  ${smallSize} vs ${largeSize} workers, per-worker cost (medians; goal ≤ ${FLAT_GOAL}×)`,
    );
    lines.push(`    listManagedWorkers per listed worker ${ratio('list', true)}×`);
    lines.push(`    getWorkerStatus per call             ${ratio('status', false)}×`);
    lines.push(`    tick per worker                      ${ratio('tick', true)}×`);
    lines.push(`    heap per worker                      ${ratio('heap', false)}×`);
  }
  const heap = large === undefined ? NaN : median(large.heap);
  lines.push(
    `  heap per worker at ${largeSize}: ${heap.toFixed(0)} bytes (goal < ${HEAP_GOAL_BYTES})`,
  );
  console.log(lines.join('\n'));
}

describe('the simulated cluster at 1,000 / 5,000 / 10,000 workers', () => {
  bench(
    'listManagedWorkers, getWorkerStatus, tick and heap per worker',
    async () => {
      const results = new Map<number, Figures>();
      for (const workers of SIZES) results.set(workers, await measure(workers));
      report(results);
    },
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});
