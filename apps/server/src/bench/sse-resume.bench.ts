/**
 * Benchmark (not a test), `pnpm --filter @hodei/server bench`: 20 SSE clients resuming at once
 * from the oldest of 50,000 stored events (`Last-Event-ID`), against `hodei serve` in a child
 * process (the built CLI) on a PostgreSQL database of its own. Prints the server's RSS growth
 * (peak during the resumes, over its RSS before) and each client's time to its first event,
 * beside the goal (under +100 MB, first event under 1 s); then the same with `?workerId=`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import type { LifecycleEvent } from '@hodei/domain';
import { PostgresEventBus } from '@hodei/postgres-event-bus';
import {
  createTestDatabase,
  spawnServer,
  tempDataDir,
  type ServerProcess,
} from '../testing/server-process.js';
import { TEST_TOKEN } from '../testing/test-server.js';

const EVENTS = 50_000;
/** `BENCH_CLIENTS` to try another number. */
const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 20);
const WORKERS = 5_000;
const GOAL_RSS_MB = 100;
const GOAL_FIRST_EVENT_MS = 1_000;
// An event frame's data is a CloudEvent; the reset frame's is not.
const DATA = Buffer.from('\ndata: {"specversion"');
const RESET = Buffer.from('event: reset');

/** Ten events per worker, the life of an agent, in the order they happen. */
function eventsOf(worker: number): LifecycleEvent[] {
  const workerId = `bench-${worker}`;
  const meta = () => ({
    eventId: randomUUID(),
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, worker)).toISOString(),
    providerId: 'k8s-stub',
    workerId,
    actor: 'api' as const,
  });
  return [
    {
      ...meta(),
      type: 'WorkerEphemeralCreated',
      mode: 'agent',
      image: 'hodei/worker:0.1.0',
      resourceId: `pod-${worker}`,
      maxLifetimeSecs: 1800,
      ttlAfterCompletionSecs: 120,
    },
    { ...meta(), type: 'WorkerEphemeralReady' },
    { ...meta(), type: 'WorkerEphemeralBusy' },
    { ...meta(), type: 'WorkerEphemeralReady' },
    { ...meta(), type: 'WorkerEphemeralBusy' },
    { ...meta(), type: 'WorkerEphemeralReady' },
    { ...meta(), type: 'WorkerEphemeralTerminating', reason: 'ManualTermination' },
    {
      ...meta(),
      type: 'WorkerEphemeralTerminated',
      exitCode: 0,
      forced: false,
      cleanupScheduled: true,
      ttlExpiresAt: null,
    },
    {
      ...meta(),
      type: 'WorkerEphemeralCleanedUp',
      cleanupReason: 'NormalTermination',
      cleanupDurationMs: 5,
    },
    { ...meta(), type: 'WorkerEphemeralReady' },
  ] as LifecycleEvent[];
}

async function seed(url: string): Promise<string> {
  const bus = PostgresEventBus.create({ connectionString: url })._unsafeUnwrap();
  (await bus.ready())._unsafeUnwrap();
  let oldest: string | undefined;
  for (let w = 0; w < WORKERS; w += 100) {
    const batch: LifecycleEvent[] = [];
    for (let i = w; i < Math.min(w + 100, WORKERS); i += 1) batch.push(...eventsOf(i));
    oldest ??= batch[0]!.eventId;
    (await bus.store.appendBatch(batch))._unsafeUnwrap();
  }
  await bus.close();
  return oldest!;
}

/** User and system CPU seconds the process has used. */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const rssMb = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) / 1024;
};

interface Resume {
  readonly firstEventMs: number;
  readonly totalMs: number;
  readonly events: number;
  readonly reset: boolean;
  readonly status: number;
}

/**
 * One client: resumes and reads until a `reset`, `until` events, or the time limit. Plain
 * `node:http` and byte searches keep the reading side cheap: 20 clients share this process.
 */
function resume(url: string, lastEventId: string, until: number): Promise<Resume> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    let firstEventMs = Number.NaN;
    let events = 0;
    let reset = false;
    let tail = Buffer.alloc(0);
    const request = get(
      url,
      { headers: { authorization: `Bearer ${TEST_TOKEN}`, 'last-event-id': lastEventId } },
      (response) => {
        const status = response.statusCode ?? 0;
        const finish = () => {
          clearTimeout(timer);
          request.destroy();
          resolve({ firstEventMs, totalMs: performance.now() - start, events, reset, status });
        };
        if (status !== 200) {
          response.resume();
          finish();
          return;
        }
        response.on('data', (chunk: Buffer) => {
          // Frames straddle chunks: search on from the end of the last one, too short to
          // hold a whole match, so none is counted twice.
          const text = Buffer.concat([tail, chunk]);
          for (let i = text.indexOf(DATA); i !== -1; i = text.indexOf(DATA, i + 1)) {
            events += 1;
            if (events === 1) firstEventMs = performance.now() - start;
          }
          if (text.includes(RESET)) reset = true;
          tail = text.subarray(Math.max(0, text.length - (DATA.length - 1)));
          if (reset || events >= until) finish();
        });
        response.on('end', finish);
      },
    );
    const timer = setTimeout(() => request.destroy(new Error('timed out')), 120_000);
    request.on('error', (cause) => (request.destroyed ? undefined : reject(cause)));
  });
}

async function round(
  server: ServerProcess,
  label: string,
  path: string,
  oldest: string,
  until: number,
): Promise<void> {
  const pid = server.child.pid!;
  await new Promise((r) => setTimeout(r, 1_000));
  const before = rssMb(pid);
  const cpuBefore = cpuSeconds(pid);
  const clientCpuBefore = process.cpuUsage();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
  const results = await Promise.all(
    Array.from({ length: CLIENTS }, () => resume(`${server.url}${path}`, oldest, until)),
  );
  clearInterval(sampler);
  const serverCpu = cpuSeconds(pid) - cpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  peak = Math.max(peak, rssMb(pid));
  const ok = results.filter((r) => r.status === 200);
  const first = ok.map((r) => r.firstEventMs).sort((a, b) => a - b);
  const total = ok.map((r) => r.totalMs).sort((a, b) => a - b);
  const growth = peak - before;
  const worst = first.at(-1) ?? Number.NaN;
  console.log(`${label}: ${CLIENTS} concurrent resumes from the oldest of ${EVENTS} events`);
  console.log(
    `  answered 200: ${ok.length}, others: ${results.length - ok.length} (${[...new Set(results.filter((r) => r.status !== 200).map((r) => r.status))].join(', ') || '-'})`,
  );
  console.log(
    `  events per client ${Math.min(...ok.map((r) => r.events))}..${Math.max(...ok.map((r) => r.events))}, ended in reset: ${ok.filter((r) => r.reset).length}`,
  );
  console.log(
    `  server RSS ${before.toFixed(0)} MB -> peak ${peak.toFixed(0)} MB: +${growth.toFixed(1)} MB   (goal < +${GOAL_RSS_MB} MB: ${growth < GOAL_RSS_MB ? 'met' : 'NOT met'})`,
  );
  console.log(
    `  first event median ${first[first.length >> 1]?.toFixed(0)} ms, worst ${worst.toFixed(0)} ms   (goal < ${GOAL_FIRST_EVENT_MS} ms: ${worst < GOAL_FIRST_EVENT_MS ? 'met' : 'NOT met'})`,
  );
  console.log(
    `  until the last event or reset: median ${total[total.length >> 1]?.toFixed(0)} ms, worst ${total.at(-1)?.toFixed(0)} ms`,
  );
  console.log(
    `  CPU: server ${serverCpu.toFixed(1)} s, these clients ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)} s`,
  );
}

const db = await createTestDatabase();
let server: ServerProcess | undefined;
try {
  const seeding = performance.now();
  const oldest = await seed(db.url);
  console.log(`seeded ${EVENTS} events in ${((performance.now() - seeding) / 1000).toFixed(1)} s`);
  server = await spawnServer({
    DATABASE_URL: db.url,
    HODEI_PROVIDERS: 'k8s-stub',
    HODEI_EVENT_PUBLISHER: 'postgres',
    HODEI_DATA_DIR: await tempDataDir(),
    HODEI_GC_INTERVAL_SECONDS: '3600',
    HODEI_RECONCILE_INTERVAL_SECONDS: '3600',
  });
  // Everything after the oldest (or up to the default cap of 10,000, then `reset`).
  await round(server, 'unfiltered', '/v1/events', oldest, EVENTS - 1);
  // The last worker's ten events, at the far end of the log.
  await round(
    server,
    `?workerId=bench-${WORKERS - 1}`,
    `/v1/events?workerId=bench-${WORKERS - 1}`,
    oldest,
    10,
  );
} finally {
  await server?.stop();
  await db.drop();
}
