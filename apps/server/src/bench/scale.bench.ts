/**
 * Benchmark (not a test), `pnpm --filter @hodei/server bench`: `hodei serve` in a child process
 * (the built CLI) on the simulated Kubernetes provider, grown to 1,000, 5,000 and 10,000
 * workers through the HTTP API. At each size it prints, beside its goal:
 *  - creates per second with 8 concurrent clients, per 1,000 created, and the last 1,000's rate
 *    over the first 1,000's (flat: about 1);
 *  - `GET /v1/workers` latency (default page, `?state=ready`, `?mode=job`), p50 and p99,
 *    beside `GET /healthz` asked in the same loop (the HTTP floor, the side-by-side baseline);
 *  - a deadline pass (`POST /v1/gc`) with 1 % of the workers due (idle past a 1 s idle
 *    timeout), beside a pass with nothing due;
 *  - heap used per worker after a GC forced over the child's inspector;
 *  - the server's event-loop lag p99 during creation (its `/metrics`, sampled every second).
 * Every phase has a time limit and says "did not finish in N s" instead of hanging.
 * `SCALE_SIZES=1000,5000` picks the sizes; `SCALE_TIMEOUT_FACTOR=2` doubles every limit.
 */
import { startScaleServer, within, type ScaleServer } from './scale-server.js';

const SIZES = (process.env['SCALE_SIZES'] ?? '1000,5000,10000')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0)
  .sort((a, b) => a - b);
const FACTOR = Number(process.env['SCALE_TIMEOUT_FACTOR'] ?? '1') || 1;
const CLIENTS = 8;
const CHUNK = 1_000;
const LIST_ROUNDS = 3;
const LIST_PER_ROUND = 100;
const PASS_ROUNDS = 3;
const LAG = 'nodejs_eventloop_lag_p99_seconds';
const GOAL = { creates: 200, flat: 0.8, listP99: 20, listGrowth: 1.5, passMs: 100, lagMs: 50 };
const QUERIES = [
  ['GET /healthz (baseline)', '/healthz'],
  ['GET /v1/workers', '/v1/workers'],
  ['GET /v1/workers?state=ready', '/v1/workers?state=ready'],
  ['GET /v1/workers?mode=job', '/v1/workers?mode=job'],
] as const;

const seconds = (ms: number) => Math.round((ms * FACTOR) / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: readonly number[], q: number): number => {
  const s = sorted(xs);
  return s.length === 0 ? Number.NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: readonly number[]) => quantile(xs, 0.5);
const f = (n: number | undefined, digits = 1) =>
  n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);
/** min/median/max */
const mmm = (xs: readonly number[], digits = 1) =>
  xs.length === 0
    ? '-'
    : `${f(Math.min(...xs), digits)}/${f(median(xs), digits)}/${f(Math.max(...xs), digits)}`;
/** `value` against a goal; NaN or infinite (nothing measured) says so. */
const verdict = (value: number, goal: number, atMost: boolean) =>
  !Number.isFinite(value)
    ? 'not measured'
    : (atMost ? value <= goal : value >= goal)
      ? 'met'
      : 'NOT met';

interface SizeReport {
  size: number;
  reached: number;
  createRates: number[];
  lagMs: number[];
  idleLagMs?: number | undefined;
  heapPerWorker?: number | undefined;
  listP50: Record<string, number>;
  listP99: Record<string, number>;
  passMs: number[];
  idlePassMs?: number | undefined;
  notes: string[];
}

const bodyOf = (i: number) =>
  i % 4 === 3
    ? { id: `s-${i}`, mode: 'job', command: ['sleep', '3600'] }
    : {
        id: `s-${i}`,
        mode: 'agent',
        command: ['sleep', 'infinity'],
        policy: { idleTimeoutSeconds: 3600 },
      };

/**
 * `count` creates (bodies by index from 0) with 8 clients until `deadline`; calls `onCreated`
 * after each that answered 201. Stops early after 20 failures.
 */
async function createMany(
  s: ScaleServer,
  count: number,
  body: (i: number) => unknown,
  deadline: number,
  onCreated: () => void = () => undefined,
): Promise<{ created: number; failures: number; firstFailure?: string }> {
  let next = 0;
  let created = 0;
  let failures = 0;
  let firstFailure: string | undefined;
  const client = async () => {
    while (next < count && failures < 20) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      const answer = await s.request('POST', '/v1/workers', body(next++), left);
      if (answer === undefined) return;
      if (answer.status === 201) {
        created += 1;
        onCreated();
      } else {
        failures += 1;
        firstFailure ??= `${answer.status} ${answer.text.slice(0, 200)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { created, failures, ...(firstFailure === undefined ? {} : { firstFailure }) };
}

/** Grows from `from` to `to` workers; creates per second per 1,000, lag sampled every second. */
async function grow(s: ScaleServer, from: number, to: number, report: SizeReport) {
  const budget = (30_000 + ((to - from) / 50) * 1000) * FACTOR;
  // The baseline: 2 s without requests (its histogram restarts at each scrape).
  await s.metric(LAG);
  await sleep(2_000);
  const idle = await s.metric(LAG);
  report.idleLagMs = idle === undefined ? undefined : idle * 1000;
  const start = performance.now();
  let chunkStart = start;
  let inChunk = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(1_000);
      const lag = sampling ? await s.metric(LAG, 5_000) : undefined;
      if (lag !== undefined) report.lagMs.push(lag * 1000);
    }
  })();
  const result = await createMany(
    s,
    to - from,
    (i) => bodyOf(from + i),
    start + budget,
    () => {
      inChunk += 1;
      if (inChunk < CHUNK) return;
      const now = performance.now();
      report.createRates.push(CHUNK / ((now - chunkStart) / 1000));
      chunkStart = now;
      inChunk = 0;
    },
  );
  sampling = false;
  await sampler;
  const elapsed = performance.now() - start;
  if (inChunk >= 100) report.createRates.push(inChunk / ((performance.now() - chunkStart) / 1000));
  report.reached = from + result.created;
  const rate = result.created / (elapsed / 1000);
  console.log(
    `  created ${result.created} in ${f(elapsed / 1000)} s (${f(rate)}/s overall), per ${CHUNK}: ${mmm(report.createRates)} /s min/median/max   (goal >= ${GOAL.creates}/s: ${verdict(Math.min(...report.createRates), GOAL.creates, false)})`,
  );
  console.log(
    `  event-loop lag p99 per 1 s window: ${mmm(report.lagMs)} ms min/median/max, idle before: ${f(report.idleLagMs)} ms   (goal <= ${GOAL.lagMs} ms: ${verdict(Math.max(...report.lagMs), GOAL.lagMs, true)})`,
  );
  if (result.failures > 0) {
    report.notes.push(`${result.failures} creates failed, first: ${result.firstFailure ?? ''}`);
    console.log(`  ${result.failures} creates failed, first: ${result.firstFailure ?? ''}`);
  }
  if (report.reached < to) {
    const note = `creation did not finish in ${seconds(budget / FACTOR)} s: ${report.reached} of ${to}`;
    report.notes.push(note);
    console.log(`  ${note}`);
  }
}

async function heap(s: ScaleServer, atZero: number | undefined, report: SizeReport) {
  const used = await s.heapUsed(30_000 * FACTOR);
  if (used === undefined || atZero === undefined || report.reached === 0) {
    console.log(`  heap: not read (no inspector, or it did not answer in ${seconds(30_000)} s)`);
    return;
  }
  report.heapPerWorker = (used - atZero) / report.reached;
  console.log(
    `  heap used after a forced GC ${f(used / 2 ** 20)} MiB (${f(atZero / 2 ** 20)} MiB at 0): ${f(report.heapPerWorker / 1024, 2)} KiB per worker`,
  );
}

/** The queries interleaved, so the baseline sees the same moment of the machine. */
async function list(s: ScaleServer, report: SizeReport, first: SizeReport | undefined) {
  const budget = 45_000 * FACTOR;
  const deadline = performance.now() + budget;
  const samples = new Map<string, number[]>(QUERIES.map(([label]) => [label, []]));
  const roundP99 = new Map<string, number[]>(QUERIES.map(([label]) => [label, []]));
  let failures = 0;
  let timedOut = false;
  for (let round = 0; round < LIST_ROUNDS && !timedOut; round++) {
    const inRound = new Map<string, number[]>(QUERIES.map(([label]) => [label, []]));
    for (let i = 0; i < LIST_PER_ROUND && !timedOut; i++) {
      for (const [label, path] of QUERIES) {
        const left = deadline - performance.now();
        const answer = left > 0 ? await s.request('GET', path, undefined, left) : undefined;
        if (answer === undefined) timedOut = true;
        else if (answer.status !== 200) failures += 1;
        else inRound.get(label)!.push(answer.ms);
        if (timedOut) break;
      }
    }
    for (const [label, xs] of inRound) {
      samples.get(label)!.push(...xs);
      if (xs.length > 0) roundP99.get(label)!.push(quantile(xs, 0.99));
    }
  }
  const n = samples.get(QUERIES[0][0])!.length;
  console.log(
    `  listing, ${n} requests per query (interleaved, one client), p50 | p99 all | p99 per round min/median/max:`,
  );
  for (const [label] of QUERIES) {
    const xs = samples.get(label)!;
    const p99 = quantile(xs, 0.99);
    report.listP50[label] = quantile(xs, 0.5);
    report.listP99[label] = p99;
    const base = first?.listP99[label];
    const goal = label.includes('healthz')
      ? ''
      : `   (goal p99 <= ${GOAL.listP99} ms: ${verdict(p99, GOAL.listP99, true)}${base === undefined ? '' : `; ${f(p99 / base, 2)}x the ${first!.size}'s, goal <= ${GOAL.listGrowth}x: ${verdict(p99 / base, GOAL.listGrowth, true)}`})`;
    console.log(
      `    ${label.padEnd(30)} ${f(quantile(xs, 0.5), 2).padStart(7)} | ${f(p99, 2).padStart(7)} | ${mmm(roundP99.get(label)!, 2)} ms${goal}`,
    );
  }
  if (failures > 0) console.log(`  ${failures} listing requests did not answer 200`);
  if (timedOut) {
    const note = `listing did not finish in ${seconds(budget / FACTOR)} s`;
    report.notes.push(note);
    console.log(`  ${note}`);
  }
}

interface PassAnswer {
  readonly wallMs: number;
  readonly deadlinePassMs: number | undefined;
  readonly reconcileMs: number | undefined;
  readonly idleTimedOut: number;
  readonly ttlExpired: number;
}

/** `POST /v1/gc`; the deadline pass's own time from `hodei_gc_duration_seconds_sum`. */
async function runPass(s: ScaleServer, timeoutMs: number): Promise<PassAnswer | undefined> {
  const before = await s.metric('hodei_gc_duration_seconds_sum');
  const reconcileBefore = await s.metric('hodei_reconcile_duration_seconds_sum');
  const answer = await s.request('POST', '/v1/gc', undefined, timeoutMs);
  if (answer === undefined) return undefined;
  if (answer.status !== 200)
    throw new Error(`POST /v1/gc answered ${answer.status}: ${answer.text}`);
  const after = await s.metric('hodei_gc_duration_seconds_sum');
  const reconcileAfter = await s.metric('hodei_reconcile_duration_seconds_sum');
  const body = JSON.parse(answer.text) as {
    byProvider: Record<string, { idleTimedOut: number; ttlExpired: number }>;
  };
  const providers = Object.values(body.byProvider);
  const idleTimedOut = providers.reduce((n, p) => n + p.idleTimedOut, 0);
  const ttlExpired = providers.reduce((n, p) => n + p.ttlExpired, 0);
  // The histogram has no sample lines before its first observation.
  const delta = (a: number | undefined, b: number | undefined) =>
    a === undefined ? undefined : (a - (b ?? 0)) * 1000;
  return {
    wallMs: answer.ms,
    deadlinePassMs: delta(after, before),
    reconcileMs: delta(reconcileAfter, reconcileBefore),
    idleTimedOut,
    ttlExpired,
  };
}

/** Rounds of: 1 % more workers made due (idle past 1 s), then a pass; then one with none due. */
async function passes(s: ScaleServer, report: SizeReport): Promise<boolean> {
  const due = Math.max(1, Math.round(report.reached / 100));
  const limit = 60_000 * FACTOR;
  const walls: number[] = [];
  const reconciles: number[] = [];
  const cleaned: string[] = [];
  for (let round = 0; round < PASS_ROUNDS; round++) {
    const made = await createMany(
      s,
      due,
      (j) => ({
        id: `due-${report.size}-${round}-${j}`,
        mode: 'agent',
        command: ['sleep', 'infinity'],
        policy: {
          idleTimeoutSeconds: 1,
          gracefulTerminationTimeoutSeconds: 1,
          // No retention: terminated and cleaned up in the same pass.
          ttlAfterCompletionSeconds: 0,
        },
      }),
      performance.now() + 30_000 * FACTOR,
    );
    // Pods start within 1.5 s, then idle for more than the 1 s timeout.
    await sleep(3_000);
    const pass = await runPass(s, limit);
    if (pass === undefined) {
      const note = `a deadline pass with ${made.created} due did not finish in ${seconds(limit / FACTOR)} s`;
      report.notes.push(note);
      console.log(`  ${note}`);
      return false;
    }
    report.passMs.push(pass.deadlinePassMs ?? pass.wallMs);
    walls.push(pass.wallMs);
    if (pass.reconcileMs !== undefined) reconciles.push(pass.reconcileMs);
    cleaned.push(`${pass.idleTimedOut}/${pass.ttlExpired}`);
    // A slow pass is measured once: the rounds would not fit in the bench's minutes.
    if (pass.wallMs > 5_000) break;
  }
  const idle = await runPass(s, limit);
  report.idlePassMs = idle?.deadlinePassMs ?? idle?.wallMs;
  console.log(
    `  deadline pass, ${due} due (idle timed out/cleaned up per pass: ${cleaned.join(', ')}): ${mmm(report.passMs)} ms min/median/max (the reconciliation before it ${mmm(reconciles, 0)} ms, POST /v1/gc ${mmm(walls, 0)} ms)   (goal <= ${GOAL.passMs} ms: ${verdict(Math.max(...report.passMs), GOAL.passMs, true)})`,
  );
  console.log(
    `  deadline pass, none due (baseline): ${idle === undefined ? `did not finish in ${seconds(limit / FACTOR)} s` : `${f(report.idlePassMs)} ms (idle timed out/cleaned up: ${idle.idleTimedOut}/${idle.ttlExpired}; POST ${f(idle.wallMs, 0)} ms)`}`,
  );
  return idle !== undefined;
}

function summary(reports: readonly SizeReport[]): void {
  const first = reports[0];
  const last = reports.at(-1);
  if (first === undefined || last === undefined) return;
  const sizes = reports.map((r) => String(r.reached).padStart(14)).join('');
  console.log(`\nSummary (min/median/max where rounds)   workers:${sizes}`);
  const kib = (r: SizeReport) =>
    r.heapPerWorker === undefined ? undefined : r.heapPerWorker / 1024;
  const rows: [string, (r: SizeReport) => string, string][] = [
    ['creates/s per 1,000', (r) => mmm(r.createRates, 0), `>= ${GOAL.creates}`],
    ['event-loop lag p99 creating, ms', (r) => mmm(r.lagMs, 0), `<= ${GOAL.lagMs}`],
    ['event-loop lag p99 idle, ms', (r) => f(r.idleLagMs, 0), '(baseline)'],
    ...QUERIES.map(([label]): [string, (r: SizeReport) => string, string] => [
      `${label} p99, ms`,
      (r) => f(r.listP99[label], 2),
      label.includes('healthz') ? '(baseline)' : `<= ${GOAL.listP99}`,
    ]),
    ['deadline pass, 1 % due, ms', (r) => mmm(r.passMs, 0), `<= ${GOAL.passMs}`],
    ['deadline pass, none due, ms', (r) => f(r.idlePassMs, 0), '(baseline)'],
    ['heap per worker, KiB', (r) => f(kib(r), 2), '(none set)'],
  ];
  for (const [label, cell, goal] of rows) {
    const cells = reports.map((r) => cell(r).padStart(14)).join('');
    console.log(`  ${label.padEnd(38)}${cells}   goal ${goal}`);
  }
  const firstRate = first.createRates[0];
  const lastRate = last.createRates.at(-1);
  if (firstRate !== undefined && lastRate !== undefined && last.reached > CHUNK) {
    const ratio = lastRate / firstRate;
    console.log(
      `  creates/s, last 1,000 (to ${last.reached}) / first 1,000: ${f(lastRate, 0)} / ${f(firstRate, 0)} = ${f(ratio, 2)}x   (goal flat, >= ${GOAL.flat}x: ${verdict(ratio, GOAL.flat, false)})`,
    );
  }
  for (const [label] of QUERIES.slice(1)) {
    const a = first.listP99[label];
    const b = last.listP99[label];
    if (a !== undefined && b !== undefined && last !== first) {
      console.log(
        `  ${label} p99 at ${last.reached} / at ${first.reached}: ${f(b / a, 2)}x   (goal <= ${GOAL.listGrowth}x: ${verdict(b / a, GOAL.listGrowth, true)})`,
      );
    }
  }
  for (const r of reports) for (const note of r.notes) console.log(`  at ${r.size}: ${note}`);
}

async function main(): Promise<void> {
  const largest = SIZES.at(-1) ?? 0;
  const s = await startScaleServer({
    HODEI_PROVIDERS: 'k8s-stub:bench',
    HODEI_MAX_WORKERS: String(Math.min(100_000, Math.ceil(largest * 1.1) + 100)),
    // Passes run only when the bench asks (POST /v1/gc), so they do not skew the creates.
    HODEI_GC_INTERVAL_SECONDS: '86400',
    HODEI_RECONCILE_INTERVAL_SECONDS: '86400',
  });
  const reports: SizeReport[] = [];
  try {
    await s.request('GET', '/v1/workers', undefined, 10_000);
    await s.metric(LAG);
    const atZero = await s.heapUsed(30_000);
    console.log(
      `Scale of hodei serve (child process, k8s-stub), ${CLIENTS} creating clients, sizes ${SIZES.join(', ')}; heap at 0 workers ${f(atZero === undefined ? undefined : atZero / 2 ** 20)} MiB`,
    );
    let from = 0;
    for (const size of SIZES) {
      const report: SizeReport = {
        size,
        reached: from,
        createRates: [],
        lagMs: [],
        listP50: {},
        listP99: {},
        passMs: [],
        notes: [],
      };
      reports.push(report);
      console.log(`\n${size} workers (from ${from})`);
      await grow(s, from, size, report);
      await heap(s, atZero, report);
      await list(s, report, reports[0] === report ? undefined : reports[0]);
      const passed = await passes(s, report);
      from = report.reached;
      if ((!passed || report.reached < size) && size !== SIZES.at(-1)) {
        console.log('  the larger sizes are skipped: the server did not keep up');
        break;
      }
    }
  } finally {
    summary(reports);
    await within(s.stop(), 20_000);
  }
}

await main();
