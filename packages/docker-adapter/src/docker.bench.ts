/**
 * `pnpm bench`: the lifecycle-managed Docker provider against raw dockerode, same engine,
 * image, command and container configuration, measured in the same run.
 *
 *   1. one worker's create → start → destroy, interleaved, the ratio of medians per round,
 *      min/median/max over rounds (goal ≤ 1.05×; ≤ 1.10× is the floor that passes)
 *   2. churn: 100 workers at concurrency 8, throughput (target ≥ 0.9× raw)
 *   3. `docker kill` → WorkerEphemeralTerminated latency (raw events stream as the baseline)
 *
 * BENCH_REPS (default 20, per round of 1), BENCH_SINGLE_ROUNDS (default 3), BENCH_CHURN
 * (default 100), BENCH_CHURN_ROUNDS (default 5). The engine
 * is shared with whatever else runs on the host: compare ratios from one run, not across runs.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { okAsync } from 'neverthrow';
import {
  dockerProfile,
  parseProviderId,
  parseWorkerId,
  type LifecycleEvent,
  type LifecycleEventPublisher,
  type WorkerSpec,
} from '@hodei/domain';
import { containerOptions } from './container-options.js';
import { connectDocker } from './docker-connection.js';
import { dockerEngineInfo } from './docker-engine.js';
import { createDockerLifecycle } from './docker-lifecycle-manager.js';
import { DockerWorkerProvider } from './docker-worker-provider.js';
import { testWorkerImage } from './testing/test-docker.js';

const REPS = Number(process.env['BENCH_REPS'] ?? 20);
const SINGLE_ROUNDS = Number(process.env['BENCH_SINGLE_ROUNDS'] ?? 3);
/** Figure 1: the goal, and the bound above which the figure is a miss. */
const SINGLE_GOAL = 1.05;
const SINGLE_LIMIT = 1.1;
const CHURN = Number(process.env['BENCH_CHURN'] ?? 100);
const CHURN_ROUNDS = Number(process.env['BENCH_CHURN_ROUNDS'] ?? 5);
const CONCURRENCY = 8;
const COMMAND = ['sh', '-c', 'sleep 3600'];

const runId = `bench-${randomBytes(4).toString('hex')}`;
const providerId = parseProviderId(runId)._unsafeUnwrap();
/** Raw containers carry another provider id, so the manager never sees them. */
const rawProviderId = parseProviderId(`${runId}-raw`)._unsafeUnwrap();
const connection = connectDocker(process.env['DOCKER_HOST']);
const docker = connection.docker;
const image = testWorkerImage();
let sequence = 0;

/** Hears the manager's events; resolves waiters on a worker's Terminated event. */
class WaitingPublisher implements LifecycleEventPublisher {
  readonly #waiters = new Map<string, (at: number) => void>();
  publish(event: LifecycleEvent) {
    if (event.type === 'WorkerEphemeralTerminated' && event.workerId !== undefined) {
      this.#waiters.get(event.workerId)?.(performance.now());
      this.#waiters.delete(event.workerId);
    }
    return okAsync<void, never>(undefined);
  }
  publishBatch(events: readonly LifecycleEvent[]) {
    for (const e of events) void this.publish(e);
    return okAsync<void, never>(undefined);
  }
  close() {
    return okAsync<void, never>(undefined);
  }
  terminated(workerId: string): Promise<number> {
    return new Promise((resolve) => this.#waiters.set(workerId, resolve));
  }
}

const publisher = new WaitingPublisher();
const provider = DockerWorkerProvider.create({ providerId, connection })._unsafeUnwrap();
const lifecycle = createDockerLifecycle({ provider, publisher })._unsafeUnwrap();
const managed = lifecycle.provider;

const spec = (prefix: string): WorkerSpec => ({
  workerId: parseWorkerId(`${prefix}-${++sequence}`)._unsafeUnwrap(),
  mode: 'job',
  image,
  command: COMMAND,
  policy: dockerProfile,
});

async function rawCycle(): Promise<void> {
  const s = spec('raw');
  const options = containerOptions(
    s,
    rawProviderId,
    Date.now(),
    { providerId: rawProviderId },
    undefined,
  );
  const container = await docker.createContainer({
    ...options,
    name: `hodei-bench-${s.workerId}-${runId}`,
  });
  await container.start();
  await container.stop({ t: 0 });
  await container.remove({ v: true });
}

async function managedCycle(): Promise<void> {
  const handle = (await managed.createWorker(spec('mgd')))._unsafeUnwrap();
  (await managed.destroyWorker(handle, { gracePeriod: 0 }))._unsafeUnwrap();
}

async function timed(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};
const ms = (value: number): string => `${value.toFixed(1)} ms`;
/** `min … median … max` of ratios, each with its ×. */
const spread = (values: readonly number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  const x = (v: number | undefined) => `${(v ?? NaN).toFixed(3)}×`;
  return `min ${x(sorted[0])}  median ${x(median(values))}  max ${x(sorted.at(-1))}`;
};

async function churn(cycle: () => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CHURN) {
        next += 1;
        await cycle();
      }
    }),
  );
  return CHURN / ((performance.now() - start) / 1000);
}

async function killLatency(): Promise<{ managed: number[]; raw: number[] }> {
  const managedLatencies: number[] = [];
  const rawLatencies: number[] = [];
  // Baseline: the same die event seen on a raw events subscription.
  const rawDie = new Map<string, (at: number) => void>();
  const events = (await docker.getEvents({
    filters: { type: ['container'], event: ['die'], label: [`hodei.provider-id=${providerId}`] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  let buffered = '';
  events.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      const id = (JSON.parse(line) as { Actor?: { ID?: string } }).Actor?.ID;
      if (id !== undefined) rawDie.get(id)?.(performance.now());
      newline = buffered.indexOf('\n');
    }
  });
  try {
    for (let i = 0; i < REPS; i++) {
      const s = spec('kill');
      const handle = (await managed.createWorker(s))._unsafeUnwrap();
      const terminated = publisher.terminated(s.workerId);
      const died = new Promise<number>((resolve) => rawDie.set(handle.resourceId, resolve));
      const start = performance.now();
      await docker.getContainer(handle.resourceId).kill();
      const [terminatedAt, diedAt] = await Promise.all([terminated, died]);
      managedLatencies.push(terminatedAt - start);
      rawLatencies.push(diedAt - start);
      (await managed.destroyWorker(handle, { gracePeriod: 0 }))._unsafeUnwrap();
    }
  } finally {
    events.destroy();
  }
  return { managed: managedLatencies, raw: rawLatencies };
}

async function cleanup(): Promise<void> {
  for (const id of [providerId, rawProviderId]) {
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`hodei.provider-id=${id}`] },
    });
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
  }
}

async function main(): Promise<void> {
  const info = await dockerEngineInfo(connection);
  if (info.isErr()) {
    throw new Error(`${info.error.message}: run scripts/services.sh up`);
  }
  console.log(
    `Docker Engine ${info.value.version} at ${connection.endpoint}; image ${image}; ${REPS} reps, churn ${CHURN} × ${CHURN_ROUNDS} rounds at concurrency ${CONCURRENCY}`,
  );
  // Warm up both paths once.
  await rawCycle();
  await managedCycle();

  // 1. single worker, interleaved, alternating which goes first; one ratio of medians per
  // round, so the spread over rounds shows how far the engine's drift moves the figure.
  const raw: number[] = [];
  const mgd: number[] = [];
  const singleRatios: number[] = [];
  for (let round = 0; round < SINGLE_ROUNDS; round++) {
    const roundRaw: number[] = [];
    const roundMgd: number[] = [];
    for (let i = 0; i < REPS; i++) {
      if (i % 2 === 0) {
        roundRaw.push(await timed(rawCycle));
        roundMgd.push(await timed(managedCycle));
      } else {
        roundMgd.push(await timed(managedCycle));
        roundRaw.push(await timed(rawCycle));
      }
    }
    raw.push(...roundRaw);
    mgd.push(...roundMgd);
    singleRatios.push(median(roundMgd) / median(roundRaw));
  }
  const single = median(singleRatios);
  const verdict =
    single <= SINGLE_GOAL ? 'OK' : single <= SINGLE_LIMIT ? 'above goal, within 1.10×' : 'MISSED';
  console.log(`\n1. create → start → destroy, one worker (${SINGLE_ROUNDS} rounds of ${REPS})`);
  console.log(`   raw dockerode        median ${ms(median(raw))}  p95 ${ms(percentile(raw, 95))}`);
  console.log(`   lifecycle-managed    median ${ms(median(mgd))}  p95 ${ms(percentile(mgd, 95))}`);
  console.log(`   per-round ratios     ${singleRatios.map((r) => r.toFixed(3)).join(', ')}`);
  console.log(
    `   ratio ${spread(singleRatios)} over rounds (goal ≤ ${SINGLE_GOAL.toFixed(2)}×, limit ≤ ${SINGLE_LIMIT.toFixed(2)}×) ${verdict}`,
  );

  // 2. churn, interleaved rounds.
  const rawRates: number[] = [];
  const mgdRates: number[] = [];
  for (let round = 0; round < CHURN_ROUNDS; round++) {
    if (round % 2 === 0) {
      rawRates.push(await churn(rawCycle));
      mgdRates.push(await churn(managedCycle));
    } else {
      mgdRates.push(await churn(managedCycle));
      rawRates.push(await churn(rawCycle));
    }
  }
  // Rounds are paired (raw and managed back to back), so the ratio is taken per round: the
  // shared engine's load drifts more between rounds than within one pair.
  const ratios = rawRates.map((raw, i) => (mgdRates[i] ?? 0) / raw);
  const churnRatio = median(ratios);
  const list = (values: number[]): string => values.map((v) => v.toFixed(2)).join(', ');
  console.log(`\n2. churn of ${CHURN} workers at concurrency ${CONCURRENCY}`);
  console.log(
    `   raw dockerode        median ${median(rawRates).toFixed(2)} workers/s  (rounds: ${list(rawRates)})`,
  );
  console.log(
    `   lifecycle-managed    median ${median(mgdRates).toFixed(2)} workers/s  (rounds: ${list(mgdRates)})`,
  );
  console.log(`   per-round ratios     ${list(ratios)}`);
  console.log(
    `   ratio ${spread(ratios)} raw throughput over rounds (target ≥ 0.9×) ${churnRatio >= 0.9 ? 'OK' : 'MISSED'}`,
  );

  // 3. docker kill → Terminated.
  const latency = await killLatency();
  console.log('\n3. docker kill → WorkerEphemeralTerminated (manager watching the events stream)');
  console.log(
    `   raw die event        median ${ms(median(latency.raw))}  p95 ${ms(percentile(latency.raw, 95))}`,
  );
  console.log(
    `   Terminated event     median ${ms(median(latency.managed))}  p95 ${ms(percentile(latency.managed, 95))}`,
  );
}

try {
  await main();
} finally {
  await lifecycle.close();
  await cleanup();
}
