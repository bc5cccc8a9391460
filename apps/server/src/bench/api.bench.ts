/**
 * Benchmark (not a test), `pnpm --filter @hodei/server bench`:
 *  1. create → destroy of one worker through the HTTP API vs through the lifecycle-managed
 *     provider in-process, on the real Docker Engine, interleaved, medians (target ≤ 1.15×);
 *  2. `GET /v1/workers` with 1,000 tracked workers (simulated cluster): requests per second,
 *     beside the same listing called in-process.
 */
import { randomBytes } from 'node:crypto';
import { createDockerLifecycle, DockerWorkerProvider } from '@hodei/docker-adapter';
import { requireTestDocker, testWorkerImage } from '@hodei/docker-adapter/testing';
import { EphemeralWorkerPolicy, parseProviderId, type WorkerId } from '@hodei/domain';
import { RecordingPublisher } from '@hodei/domain/testing';
import { startTestServer, TEST_TOKEN } from '../testing/test-server.js';

const REPETITIONS = 20;
const TRACKED = 1_000;
const LIST_REQUESTS = 300;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const fmt = (n: number) => n.toFixed(1).padStart(8);
// Exits at once on SIGTERM, so the destroy measures our path, not a graceful wait.
const COMMAND = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];

async function createDestroy(): Promise<void> {
  const connection = await requireTestDocker();
  const image = testWorkerImage();
  const policy = EphemeralWorkerPolicy.builder()
    .gracefulTerminationTimeout(5_000)
    .build()
    ._unsafeUnwrap();

  const providerId = parseProviderId(`bench-${randomBytes(3).toString('hex')}`)._unsafeUnwrap();
  const provider = DockerWorkerProvider.create({ providerId, connection })._unsafeUnwrap();
  const lifecycle = createDockerLifecycle({
    provider,
    publisher: new RecordingPublisher(),
    policy,
  })._unsafeUnwrap();

  const serverProviderId = `bench-${randomBytes(3).toString('hex')}`;
  const t = await startTestServer({
    HODEI_PROVIDERS: `docker:${serverProviderId}`,
    HODEI_GC_INTERVAL_SECONDS: '3600',
    HODEI_RECONCILE_INTERVAL_SECONDS: '3600',
  });

  let n = 0;
  const inProcess = async (): Promise<number> => {
    const workerId = `bench-a-${++n}` as WorkerId;
    const start = process.hrtime.bigint();
    const handle = (
      await lifecycle.provider.createWorker({
        workerId,
        mode: 'agent',
        image,
        command: COMMAND,
        policy,
      })
    )._unsafeUnwrap();
    (await lifecycle.provider.destroyWorker(handle))._unsafeUnwrap();
    return ms(start);
  };
  const overHttp = async (): Promise<number> => {
    const id = `bench-h-${++n}`;
    const start = process.hrtime.bigint();
    const created = await t.api('POST', '/v1/workers', {
      body: {
        id,
        mode: 'agent',
        command: COMMAND,
        policy: { gracefulTerminationTimeoutSeconds: 5 },
      },
    });
    if (created.status !== 201)
      throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
    const removed = await t.api('DELETE', `/v1/workers/${id}?wait=true`);
    if (removed.status !== 200) throw new Error(`delete answered ${removed.status}`);
    return ms(start);
  };

  await inProcess();
  await overHttp();
  const a: number[] = [];
  const h: number[] = [];
  for (let i = 0; i < REPETITIONS; i++) {
    a.push(await inProcess());
    h.push(await overHttp());
  }
  await lifecycle.close();
  await t.stop();
  const ratio = median(h) / median(a);
  console.log(`create → destroy of one worker on Docker, ${REPETITIONS} interleaved runs, medians`);
  console.log(`  lifecycle-managed provider, in-process ${fmt(median(a))} ms`);
  console.log(
    `  HTTP API (POST, DELETE ?wait=true)      ${fmt(median(h))} ms   ratio ${ratio.toFixed(2)}x (target <= 1.15x)`,
  );
}

async function listThroughput(): Promise<void> {
  const t = await startTestServer({
    HODEI_MAX_WORKERS: String(TRACKED + 10),
    HODEI_GC_INTERVAL_SECONDS: '3600',
    HODEI_RECONCILE_INTERVAL_SECONDS: '3600',
  });
  for (let i = 0; i < TRACKED; i++) {
    const r = await t.api('POST', '/v1/workers', {
      body: { id: `list-${i}`, mode: 'agent', command: ['sleep', 'infinity'] },
    });
    if (r.status !== 201) throw new Error(`create answered ${r.status}`);
  }
  const service = t.server.service;
  const run = async (label: string, once: () => Promise<unknown>, concurrency: number) => {
    await once();
    const start = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < LIST_REQUESTS) await once();
      }),
    );
    const perSecond = LIST_REQUESTS / (ms(start) / 1000);
    console.log(`  ${label.padEnd(44)} ${perSecond.toFixed(0).padStart(8)} req/s`);
    return perSecond;
  };
  const headers = { authorization: `Bearer ${TEST_TOKEN}` };
  console.log(`GET /v1/workers with ${TRACKED} tracked workers, ${LIST_REQUESTS} requests each`);
  const inProcess = await run(
    'in-process service.list (limit 100)',
    () => service.list({ limit: 100 }),
    1,
  );
  const page = await run(
    'HTTP, limit 100, 8 concurrent clients',
    () => fetch(`${t.url}/v1/workers`, { headers }).then((r) => r.arrayBuffer()),
    8,
  );
  await run(
    'HTTP, limit 1000, 8 concurrent clients',
    () => fetch(`${t.url}/v1/workers?limit=1000`, { headers }).then((r) => r.arrayBuffer()),
    8,
  );
  console.log(`  HTTP / in-process (limit 100)                ${(page / inProcess).toFixed(2)}x`);
  await t.stop();
}

await createDestroy();
await listThroughput();
