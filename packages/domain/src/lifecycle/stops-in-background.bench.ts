/**
 * Benchmark scenario (not a test), run by deadline-pass.bench.ts: 100 workers past their
 * lifetime whose PID 1 ignores SIGTERM, so each stop takes the whole 30 s graceful timeout.
 * The deadline pass that decides and starts the stops in the background, against a baseline
 * pass that awaits each stop as the pass used to (8 at a time, the pass's concurrency).
 *
 * Time runs on a scaled clock: a stop waits grace / SCALE real milliseconds, so a round
 * takes seconds. The new pass never waits on the clock, so its real duration is what it
 * would be at any scale; the baseline's duration is shown on the grace clock too.
 */
import { ok, okAsync, ResultAsync, type Result } from 'neverthrow';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import type { Clock } from '../ports/clock.port.js';
import type {
  WorkerHandle,
  WorkerProvider,
  WorkerProviderError,
  WorkerSpec,
  WorkerStatus,
} from '../ports/worker-provider.port.js';
import { SequentialIdGenerator } from '../testing/sequential-id-generator.js';
import { benchProvider, droppingPublisher } from './bench-ports.bench.js';
import { forEachLimited } from './for-each-limited.js';
import { LifecycleManager } from './lifecycle-manager.js';

const WORKERS = 100;
const GRACE = 30_000;
const FORCE_MARGIN = 30_000;
const SCALE = Number(process.env['BENCH_GRACE_SCALE'] ?? 20);
const ROUNDS = Number(process.env['BENCH_GRACE_ROUNDS'] ?? 3);
/** How often the server would run the pass, on the grace clock. */
const PASS_INTERVAL = 1_000;

/** Real time sped up SCALE times, and moved on at will. */
class ScaledClock implements Clock {
  readonly #t0 = performance.now();
  #offset = Date.parse('2026-01-01T00:00:00.000Z');

  now(): number {
    return this.#offset + Math.floor((performance.now() - this.#t0) * SCALE);
  }

  advance(ms: number): void {
    this.#offset += ms;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms / SCALE));
  }
}

/** Containers whose stop waits out its grace period on the clock; removal is immediate. */
function graceTakingProvider(clock: ScaledClock): WorkerProvider {
  const exited = new Set<string>();
  const removed = new Set<string>();
  const status = (h: WorkerHandle): WorkerStatus =>
    removed.has(h.resourceId)
      ? { state: 'missing' }
      : exited.has(h.resourceId)
        ? { state: 'exited', exitCode: 137, finishedAt: null, oomKilled: false }
        : { state: 'running', health: 'none' };
  return benchProvider({
    stopWorker: (h, options) =>
      new ResultAsync<void, WorkerProviderError>(
        clock.sleep(options.gracePeriod).then((): Result<void, WorkerProviderError> => {
          exited.add(h.resourceId);
          return ok(undefined);
        }),
      ),
    destroyWorker: (h) => {
      removed.add(h.resourceId);
      return okAsync(undefined);
    },
    getWorkerStatus: (h) => okAsync(status(h)),
  });
}

const publisher = droppingPublisher;

const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(60_000)
  .idleTimeout(60_000)
  .startupTimeout(30_000)
  .gracefulTerminationTimeout(GRACE)
  .ttlAfterCompletion(24 * 3600 * 1000)
  .build()
  ._unsafeUnwrap();

interface Setup {
  readonly clock: ScaledClock;
  readonly provider: WorkerProvider;
  readonly manager: LifecycleManager;
  readonly handles: readonly WorkerHandle[];
}

/** WORKERS busy jobs, all past their lifetime. */
async function setup(): Promise<Setup> {
  const clock = new ScaledClock();
  const provider = graceTakingProvider(clock);
  const ids = new SequentialIdGenerator('g');
  const manager = new LifecycleManager({ provider, publisher, clock, ids, policy });
  const handles: WorkerHandle[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const workerId = ids.workerId();
    const handle: WorkerHandle = {
      workerId,
      resourceId: `c-${i}`,
      providerId: provider.providerId,
      createdAt: clock.now(),
    };
    const spec: WorkerSpec = { workerId, mode: 'job', image: 'hodei/worker:0.1.0', policy };
    await manager.initializeWorker(handle, spec);
    await manager.markWorkerReady(workerId);
    await manager.markWorkerBusy(workerId);
    handles.push(handle);
  }
  clock.advance(policy.maxLifetime);
  return { clock, provider, manager, handles };
}

const terminating = (m: LifecycleManager) => m.listWorkers({ state: 'terminating' }).length;

interface Sample {
  /** Real milliseconds of the pass that decides the terminations. */
  readonly passMs: number;
  /** Grace-clock milliseconds from that pass's start until no worker is terminating. */
  readonly allDoneMs: number;
  readonly forced: number;
}

/** The pass as it is: decide, start the stops, return; later passes force what is left. */
async function backgroundRound(): Promise<Sample> {
  const { clock, manager } = await setup();
  const decidedAt = clock.now();
  const start = performance.now();
  const first = (await manager.runGcCycle())._unsafeUnwrap();
  const passMs = performance.now() - start;
  if (first.lifetimeExceeded !== WORKERS) throw new Error(`decided ${first.lifetimeExceeded}`);
  let forced = 0;
  while (terminating(manager) > 0) {
    await clock.sleep(PASS_INTERVAL);
    forced += (await manager.runGcCycle())._unsafeUnwrap().forceTerminated;
  }
  const allDoneMs = clock.now() - decidedAt;
  await manager.close();
  return { passMs, allDoneMs, forced };
}

/** The pass as it was: each termination awaits its stop and the exit read after it. */
async function awaitingRound(): Promise<Sample> {
  const { clock, provider, manager, handles } = await setup();
  const decidedAt = clock.now();
  const start = performance.now();
  await forEachLimited(handles, 8, async (h) => {
    await manager.startTermination(h.workerId, 'LifetimeExceeded', { actor: 'gc' });
    await provider.stopWorker(h, { gracePeriod: GRACE });
    const status = await provider.getWorkerStatus(h);
    if (status.isOk()) await manager.observeStatus(h.workerId, status.value, { actor: 'gc' });
  });
  const passMs = performance.now() - start;
  if (terminating(manager) > 0) throw new Error('baseline left workers terminating');
  return { passMs, allDoneMs: clock.now() - decidedAt, forced: 0 };
}

const spread = (xs: readonly number[], digits: number): string => {
  const s = [...xs].sort((a, b) => a - b);
  const f = (n: number | undefined) => (n ?? NaN).toFixed(digits);
  return `min ${f(s[0])}  median ${f(s[s.length >> 1])}  max ${f(s.at(-1))}`;
};

export async function stopsInBackgroundBench(): Promise<void> {
  const background: Sample[] = [];
  const awaiting: Sample[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    background.push(await backgroundRound());
    awaiting.push(await awaitingRound());
  }
  const secs = (xs: readonly Sample[], pick: (s: Sample) => number) =>
    spread(
      xs.map((s) => pick(s) / 1000),
      1,
    );
  console.log(
    `stops in the background: ${WORKERS} workers past their lifetime, stop takes the ${GRACE / 1000} s grace, ` +
      `clock x${SCALE}, ${ROUNDS} rounds each, interleaved`,
  );
  console.log(
    `  pass duration, background stops  ${spread(
      background.map((s) => s.passMs),
      1,
    )} ms real  (goal < 1000 ms)`,
  );
  console.log(
    `  pass duration, awaiting stops    ${spread(
      awaiting.map((s) => s.passMs),
      1,
    )} ms real = ${secs(awaiting, (s) => s.passMs * SCALE)} s on the grace clock (baseline)`,
  );
  console.log(
    `  all finished, background stops   ${secs(background, (s) => s.allDoneMs)} s on the grace clock  ` +
      `(goal <= ${(GRACE + FORCE_MARGIN) / 1000} s + one pass interval of ${PASS_INTERVAL / 1000} s; ` +
      `force-removed ${spread(
        background.map((s) => s.forced),
        0,
      )})`,
  );
  console.log(
    `  all finished, awaiting stops     ${secs(awaiting, (s) => s.allDoneMs)} s on the grace clock (baseline)`,
  );
}
