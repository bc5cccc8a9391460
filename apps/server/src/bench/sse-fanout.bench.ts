/**
 * Benchmark (not a test), `tsx src/bench/sse-fanout.bench.ts`: live fan-out of `GET /v1/events`
 * to 200 SSE clients over HTTP (a server in this process, the clients in a worker thread so
 * that their parsing does not share the server's event loop), beside 1 client. Events are
 * published in bursts; each client notes when each event's frame arrives. Prints latency from
 * publish to receipt (p50, p99; min / median / max over the rounds) and the events any client
 * missed, beside the goal (200 clients: p99 <= 50 ms, none missing). `BENCH_ROUNDS`,
 * `BENCH_CLIENTS` and `BENCH_EVENTS` to change them.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { LifecycleEvent } from '@hodei/domain';
import { startTestServer, TEST_TOKEN } from '../testing/test-server.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 200);
const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 500);
const BURST = 10;
const BURST_EVERY_MS = 10;
const GOAL_P99_MS = 50;

interface ClientsJob {
  readonly url: string;
  readonly token: string;
  readonly clients: number;
}
type FromClients =
  | { readonly kind: 'connected' }
  | { readonly kind: 'received'; readonly arrivals: [string, number][][] };

/**
 * The clients, in a worker thread (plain JavaScript, so it needs no loader): `clients` SSE
 * connections, each noting when each frame's `id:` arrives.
 */
const CLIENTS_SOURCE = `
const { connect } = require('node:net');
const { parentPort, workerData: job } = require('node:worker_threads');
const url = new URL(job.url);
const ID = Buffer.from('id: ');
const request =
  'GET /v1/events HTTP/1.1\\r\\nhost: ' + url.host + '\\r\\nauthorization: Bearer ' + job.token + '\\r\\n\\r\\n';
const arrivals = [];
let connected = 0;
for (let c = 0; c < job.clients; c++) {
  const mine = [];
  arrivals.push(mine);
  let rest = Buffer.alloc(0);
  let headers = false;
  const socket = connect(Number(url.port), url.hostname, () => socket.write(request));
  socket.on('data', (chunk) => {
    const now = performance.timeOrigin + performance.now();
    if (!headers) {
      headers = true;
      if (++connected === job.clients) parentPort.postMessage({ kind: 'connected' });
    }
    const data = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    let at = data.indexOf(ID);
    let keep = data.length;
    while (at >= 0) {
      const eol = data.indexOf(10, at);
      if (eol < 0) { keep = at; break; }
      mine.push([data.latin1Slice(at + 4, eol), now]);
      at = data.indexOf(ID, eol);
    }
    rest = keep < data.length ? data.subarray(keep) : Buffer.alloc(0);
  });
}
parentPort.on('message', () => parentPort.postMessage({ kind: 'received', arrivals }));
`;

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const eventOf = (i: number): LifecycleEvent => ({
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  providerId: 'k8s-stub',
  actor: 'watch',
  workerId: `fan-${i % 50}`,
  type: 'WorkerEphemeralReady',
});

interface Round {
  readonly p50: number;
  readonly p99: number;
  readonly missing: number;
  /** The server's event loop busy (publishing, fan-out, writes), the clients not included. */
  readonly busyMs: number;
}

async function round(clients: number): Promise<Round> {
  const t = await startTestServer({}, { heartbeatMs: 60_000 });
  const worker = new Worker(CLIENTS_SOURCE, {
    eval: true,
    workerData: { url: t.url, token: TEST_TOKEN, clients } satisfies ClientsJob,
  });
  const next = () =>
    new Promise<FromClients>((resolve) => worker.once('message', (m: FromClients) => resolve(m)));
  await next();
  await sleep(200);
  const published = new Map<string, number>();
  const loop = performance.eventLoopUtilization();
  for (let i = 0; i < EVENTS; i += BURST) {
    const burst = Array.from({ length: Math.min(BURST, EVENTS - i) }, (_, j) => eventOf(i + j));
    const at = performance.timeOrigin + performance.now();
    for (const e of burst) published.set(e.eventId, at);
    await t.server.live.publishBatch(burst);
    await sleep(BURST_EVERY_MS);
  }
  await sleep(1_000);
  const busyMs = performance.eventLoopUtilization(loop).active;
  const reply = next();
  worker.postMessage('report');
  const received = await reply;
  await worker.terminate();
  await t.stop();
  if (received.kind !== 'received') throw new Error('no report from the clients');
  const latencies: number[] = [];
  let missing = 0;
  for (const mine of received.arrivals) {
    const seen = new Set<string>();
    for (const [id, at] of mine) {
      const sent = published.get(id);
      if (sent === undefined) continue;
      seen.add(id);
      latencies.push(at - sent);
    }
    missing += published.size - seen.size;
  }
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), missing, busyMs };
}

const stats = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[0], s[s.length >> 1], s.at(-1)].map((n) => (n ?? NaN).toFixed(1).padStart(7));
};

async function main(): Promise<void> {
  const results = new Map<number, Round[]>([
    [1, []],
    [CLIENTS, []],
  ]);
  // Interleaved, so that the machine's other load falls on both alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const [clients, rounds] of results) rounds.push(await round(clients));
  }
  console.log(
    `SSE live fan-out, ${EVENTS} events in bursts of ${BURST} every ${BURST_EVERY_MS} ms, ${ROUNDS} rounds (min / median / max)`,
  );
  console.log(
    `  ${'clients'.padEnd(9)} ${'p50 ms'.padEnd(24)} ${'p99 ms'.padEnd(24)} ${'server loop busy ms'.padEnd(24)} missing`,
  );
  for (const [clients, rounds] of results) {
    const missing = rounds.reduce((n, x) => n + x.missing, 0);
    console.log(
      `  ${String(clients).padEnd(9)} ${stats(rounds.map((x) => x.p50)).join(' ')}  ${stats(rounds.map((x) => x.p99)).join(' ')}  ${stats(rounds.map((x) => x.busyMs)).join(' ')}  ${missing}`,
    );
  }
  const big = results.get(CLIENTS) ?? [];
  const p99 = Number(stats(big.map((x) => x.p99))[1]);
  const missing = big.reduce((n, x) => n + x.missing, 0);
  console.log(
    `  ${CLIENTS} clients: median p99 ${p99.toFixed(1)} ms (goal <= ${GOAL_P99_MS}), ${missing} missing (goal 0) — ${p99 <= GOAL_P99_MS && missing === 0 ? 'ok' : 'OVER'}`,
  );
}

await main();
