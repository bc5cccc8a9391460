/**
 * Benchmark (not a test), `pnpm --filter @hodei/server bench`: 10 concurrent
 * `GET /v1/workers/{id}/logs?tail=all` of a finished worker that printed 20 MiB, on the real
 * Docker Engine, the server in a child process of its own. Prints the growth of the server's
 * RSS (peak over the baseline, sampled every 10 ms) and the time to the first byte of each
 * read, beside the goal: under +100 MB, first byte under 1 s. A second round reads with the
 * default query (the last 1,000 lines, 10 MiB at most per response).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTestDocker } from '@hodei/docker-adapter/testing';
import { apiClient, TEST_TOKEN } from '../testing/test-server.js';

const READERS = 10;
const LOG_BYTES = 20 * 1024 * 1024;
const GOAL_RSS_MB = 100;
const GOAL_FIRST_BYTE_MS = 1_000;
const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
// 100-byte lines; `head -c` stops at exactly LOG_BYTES.
const LINE = 'x'.repeat(99);

const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/** `hodei serve` from the sources (tsx), so its RSS is the server's alone. */
async function spawnServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}:\n${stderr}`)));
  });
  return { child, url, pid: child.pid! };
}

/** One read: time to its first body byte and to its end, and the bytes it got. */
async function read(url: string): Promise<{ firstByteMs: number; totalMs: number; bytes: number }> {
  const start = process.hrtime.bigint();
  const response = await fetch(url, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  let firstByteMs = -1;
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (firstByteMs < 0) firstByteMs = ms(start);
    bytes += chunk.length;
  }
  return { firstByteMs, totalMs: ms(start), bytes };
}

/** READERS reads of `url` at once, with the server's RSS sampled every 10 ms. */
async function round(pid: number, url: string, label: string): Promise<void> {
  const baseline = await rssMb(pid);
  let peak = baseline;
  const sampler = setInterval(() => {
    void rssMb(pid).then((mb) => (peak = Math.max(peak, mb)));
  }, 10);
  const start = process.hrtime.bigint();
  const reads = await Promise.all(Array.from({ length: READERS }, () => read(url)));
  const wallMs = ms(start);
  clearInterval(sampler);
  const firstBytes = reads.map((r) => r.firstByteMs);
  const maxFirst = Math.max(...firstBytes);
  const growth = peak - baseline;
  const mb = (n: number) => (n / 1024 / 1024).toFixed(2);
  console.log(`${READERS} concurrent reads of a ${LOG_BYTES / 1024 / 1024} MiB log, ${label}`);
  console.log(`  bytes per read          ${mb(reads[0]?.bytes ?? 0)} MiB`);
  console.log(`  server RSS              ${baseline.toFixed(0)} MB → peak ${peak.toFixed(0)} MB`);
  console.log(
    `  RSS growth              +${growth.toFixed(0)} MB   (goal < +${GOAL_RSS_MB} MB: ${growth < GOAL_RSS_MB ? 'met' : 'MISSED'})`,
  );
  console.log(
    `  first byte, median/max  ${median(firstBytes).toFixed(0)} / ${maxFirst.toFixed(0)} ms   (goal < ${GOAL_FIRST_BYTE_MS} ms: ${maxFirst < GOAL_FIRST_BYTE_MS ? 'met' : 'MISSED'})`,
  );
  console.log(`  all reads done in       ${wallMs.toFixed(0)} ms`);
}

async function main(): Promise<void> {
  const docker = (await requireTestDocker()).docker;
  const providerId = `bench-${randomBytes(3).toString('hex')}`;
  const server = await spawnServer({
    HODEI_HTTP_PORT: '0',
    HODEI_API_TOKEN: TEST_TOKEN,
    HODEI_PROVIDERS: `docker:${providerId}`,
    HODEI_EVENT_PUBLISHER: 'logger',
    HODEI_LOG_LEVEL: 'warn',
    HODEI_DATA_DIR: await mkdtemp(join(tmpdir(), 'hodei-bench-')),
    // Room for the whole log in one response and on disk: tail=all streams all 20 MiB.
    HODEI_LOG_RESPONSE_MAX_BYTES: String(2 * LOG_BYTES),
    HODEI_WORKER_LOG_MAX_SIZE: '64m',
  });
  const api = apiClient(server.url);
  try {
    const id = `${providerId}-log`;
    const created = await api('POST', '/v1/workers', {
      body: { id, command: ['sh', '-c', `yes ${LINE} | head -c ${LOG_BYTES}`] },
    });
    if (created.status !== 201) throw new Error(`create answered ${created.status}`);
    for (;;) {
      const worker = (await api('GET', `/v1/workers/${id}`)).body as { state?: string };
      if (worker.state === 'terminated') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await read(`${server.url}/v1/workers/${id}/logs?tail=10`);
    await round(server.pid, `${server.url}/v1/workers/${id}/logs?tail=all`, 'tail=all');
    await round(server.pid, `${server.url}/v1/workers/${id}/logs`, 'default: last 1,000 lines');
  } finally {
    server.child.kill('SIGTERM');
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`hodei.provider-id=${providerId}`] },
    });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  }
}

await main();
