/**
 * Benchmark (not a test), `pnpm --filter @hodei/server bench`: a deadline pass over 100 Docker
 * workers past their lifetime whose PID 1 ignores SIGTERM (30 s graceful timeout), on the real
 * engine through the server. The pass decides and does not wait for the stops (goal: it returns
 * in under 1 s), and every worker is removed by graceful + 30 s (goal: 60 s after the pass).
 * Baseline, measured in the same run: `docker stop -t 30` of 100 such containers at once, the
 * least time any stop of them can take.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { startTestServer } from '../testing/test-server.js';

const docker = async (...args: string[]): Promise<string> =>
  (await promisify(execFile)('docker', args, { maxBuffer: 16 * 2 ** 20 })).stdout.trim();

const WORKERS = Number(process.env['BENCH_STOP_WORKERS'] ?? 100);
const GRACE_S = 30;
const LIFETIME_S = 5;
const IGNORES_TERM = ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'];

const seconds = (start: number) => (performance.now() - start) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function throughServer(): Promise<{
  firstPassS: number;
  slowestPassS: number;
  allGoneS: number;
}> {
  const t = await startTestServer({
    HODEI_PROVIDERS: `docker:bench-${randomBytes(3).toString('hex')}`,
    HODEI_MAX_WORKERS: String(WORKERS + 10),
    HODEI_GC_INTERVAL_SECONDS: '3600',
    HODEI_RECONCILE_INTERVAL_SECONDS: '3600',
  });
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < WORKERS) {
          const id = `stop-${next++}`;
          const r = await t.api('POST', '/v1/workers', {
            body: {
              id,
              mode: 'agent',
              command: IGNORES_TERM,
              policy: {
                maxLifetimeSeconds: LIFETIME_S,
                idleTimeoutSeconds: LIFETIME_S,
                startupTimeoutSeconds: LIFETIME_S,
                gracefulTerminationTimeoutSeconds: GRACE_S,
                ttlAfterCompletionSeconds: 0,
              },
            },
          });
          if (r.status !== 201)
            throw new Error(`create answered ${r.status}: ${JSON.stringify(r.body)}`);
        }
      }),
    );
    await sleep(LIFETIME_S * 1000 + 500);
    const passStart = performance.now();
    const first = await t.api('POST', '/v1/gc');
    const firstPassS = seconds(passStart);
    if (first.status !== 200) throw new Error(`POST /v1/gc answered ${first.status}`);
    let slowestPassS = firstPassS;
    let allGoneS = Number.NaN;
    while (seconds(passStart) < GRACE_S * 2 + 30) {
      await sleep(1000);
      const at = performance.now();
      await t.api('POST', '/v1/gc');
      slowestPassS = Math.max(slowestPassS, seconds(at));
      const listed = await t.api('GET', '/v1/workers?limit=1');
      const { items } = listed.body as { items: unknown[] };
      if (items.length === 0) {
        allGoneS = seconds(passStart);
        break;
      }
    }
    return { firstPassS, slowestPassS, allGoneS };
  } finally {
    const left = await t.api('GET', `/v1/workers?limit=${WORKERS}`);
    for (const w of (left.body as { items: { id: string }[] }).items)
      await t.api('DELETE', `/v1/workers/${w.id}?wait=true`);
    await t.stop();
  }
}

async function rawDockerStop(): Promise<number> {
  const image = process.env['HODEI_WORKER_IMAGE'] ?? 'hodei/worker:0.1.0';
  const label = `hodei-bench-stop-${randomBytes(3).toString('hex')}`;
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next++ < WORKERS)
        ids.push(await docker('run', '-d', '--init', '--label', label, image, ...IGNORES_TERM));
    }),
  );
  const start = performance.now();
  await docker('stop', '-t', String(GRACE_S), ...ids);
  const took = seconds(start);
  await docker('rm', '-f', ...ids);
  return took;
}

const f = (n: number) => (Number.isNaN(n) ? 'n/a' : n.toFixed(2));
const server = await throughServer();
const raw = await rawDockerStop();
console.log(
  `${WORKERS} Docker workers past their lifetime, PID 1 ignoring SIGTERM, ${GRACE_S} s graceful timeout`,
);
console.log(
  `  first deadline pass (decides ${WORKERS} terminations)  ${f(server.firstPassS)} s   (goal < 1 s)`,
);
console.log(`  slowest POST /v1/gc (pass + reconciliation)    ${f(server.slowestPassS)} s`);
console.log(
  `  all removed, after the first pass                ${f(server.allGoneS)} s   (goal <= ${GRACE_S + 30} s)`,
);
console.log(`  baseline: docker stop -t ${GRACE_S} of ${WORKERS} at once  ${f(raw)} s`);
