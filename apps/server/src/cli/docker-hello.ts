import { randomBytes } from 'node:crypto';
import {
  EphemeralWorkerPolicy,
  dockerProfile,
  parseProviderId,
  type LifecycleEvent,
  type ProviderId,
  type WorkerId,
} from '@hodei/domain';
import {
  connectDocker,
  containerName,
  createDockerLifecycle,
  dockerEngineInfo,
  DockerWorkerProvider,
  type DockerConnection,
  type DockerLifecycle,
} from '@hodei/docker-adapter';
import { err, ok, type Result } from 'neverthrow';
import { LiveEventStream } from '../events/live-event-stream.js';
import { DEFAULT_WORKER_IMAGE } from '../config/config.js';
import { describeError } from '../workers/service.errors.js';

export interface HelloOptions {
  readonly dockerHost: string | undefined;
  readonly image: string;
  readonly out: (line: string) => void;
  /** Demo retention: how long the stopped container is kept before the GC removes it. */
  readonly ttlMs?: number;
  readonly timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const GREETING = 'Hello from Docker provider';

type Check = (name: string, held: boolean) => void;

interface Hello {
  readonly options: HelloOptions;
  readonly ttlMs: number;
  readonly connection: DockerConnection;
  readonly provider: DockerWorkerProvider;
  readonly providerId: ProviderId;
  readonly policy: EphemeralWorkerPolicy;
  readonly lifecycle: DockerLifecycle;
  readonly events: LifecycleEvent[];
  readonly workerId: WorkerId;
  readonly started: number;
  readonly deadline: number;
}

/**
 * `hodei job docker-hello` (the seed's `just job-docker-hello`), in-process: one job worker
 * runs `echo Hello from Docker provider` under lifecycle management; its output, its event
 * timeline, the TTL cleanup and the absence of any container left are shown and checked.
 * Returns the exit code: 0 when everything held.
 */
export async function dockerHello(options: HelloOptions): Promise<number> {
  const { out } = options;
  const opened = await openHello(options);
  if (opened.isErr()) {
    opened.error.forEach((line) => out(line));
    return 1;
  }
  const hello = opened.value;
  const checks: { name: string; ok: boolean }[] = [];
  const check: Check = (name, held) => {
    checks.push({ name, ok: held });
  };
  try {
    if (!(await runJob(hello, check))) return 1;
  } finally {
    await hello.lifecycle.close();
  }
  printTimeline(hello, check);
  out('');
  for (const c of checks) out(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`);
  const held = checks.every((c) => c.ok);
  out(held ? 'docker-hello: the whole lifecycle held' : 'docker-hello: something did not hold');
  return held ? 0 : 1;
}

/** Connects to the engine and builds a lifecycle of its own, or says what went wrong. */
async function openHello(options: HelloOptions): Promise<Result<Hello, readonly string[]>> {
  const ttlMs = options.ttlMs ?? 3_000;
  const connection = connectDocker(options.dockerHost);
  const engine = await dockerEngineInfo(connection);
  if (engine.isErr())
    return err([`FAIL ${engine.error.message}`, 'hint: run scripts/services.sh up']);
  options.out(`Docker Engine ${engine.value.version} at ${connection.endpoint}`);

  // A provider id of its own: nothing else on this engine is ever touched.
  const providerId = parseProviderId(`hello-${randomBytes(3).toString('hex')}`)._unsafeUnwrap();
  const provider = DockerWorkerProvider.create({
    providerId,
    connection,
    pullPolicy: 'IfNotPresent',
  });
  if (provider.isErr()) return err([`FAIL ${provider.error.message}`]);
  const policy = EphemeralWorkerPolicy.builder(dockerProfile)
    .ttlAfterCompletion(ttlMs)
    .maxLifetime(300_000)
    .idleTimeout(60_000)
    .startupTimeout(60_000)
    .build()
    ._unsafeUnwrap();
  const live = new LiveEventStream();
  const events: LifecycleEvent[] = [];
  live.subscribe((e) => events.push(e));
  const lifecycle = createDockerLifecycle({ provider: provider.value, publisher: live, policy });
  if (lifecycle.isErr()) return err([`FAIL ${lifecycle.error.message}`]);
  const started = Date.now();
  return ok({
    options,
    ttlMs,
    connection,
    provider: provider.value,
    providerId,
    policy,
    lifecycle: lifecycle.value,
    events,
    workerId: `hello-${Date.now().toString(36)}` as WorkerId,
    started,
    deadline: started + (options.timeoutMs ?? 60_000),
  });
}

/** Creates the job, shows its output, waits for its exit and its TTL cleanup; false: no worker. */
async function runJob(hello: Hello, check: Check): Promise<boolean> {
  const { options, workerId, ttlMs, policy } = hello;
  const { out } = options;
  const { manager, provider: managed } = hello.lifecycle;
  out(
    `creating job worker ${workerId} (image ${options.image}, provider ${hello.providerId}, retention ${ttlMs} ms)`,
  );
  const created = await managed.createWorker(
    { workerId, mode: 'job', image: options.image, command: ['echo', GREETING], policy },
    { actor: 'cli' },
  );
  if (created.isErr()) {
    out(`FAIL could not create the worker: ${describeError(created.error)}`);
    if (created.error.type === 'ImagePullFailed' && options.image === DEFAULT_WORKER_IMAGE) {
      out('hint: run scripts/services.sh up (it builds the worker image)');
    }
    return false;
  }
  const handle = created.value;
  out(`container ${containerName(hello.providerId, workerId)} (${handle.resourceId.slice(0, 12)})`);

  const output: string[] = [];
  const logs = await hello.provider.logs(handle, { follow: true });
  if (logs.isOk()) {
    for await (const line of logs.value) {
      output.push(line.line);
      out(`  | ${line.line}`);
    }
  }
  check(`the job printed "${GREETING}"`, output.includes(GREETING));

  while (manager.getWorker(workerId)?.state !== 'terminated' && Date.now() < hello.deadline) {
    await manager.reconcile();
    await sleep(100);
  }
  const finished = manager.getWorker(workerId);
  check(
    'the worker terminated with exit code 0',
    finished?.state === 'terminated' && finished.exitCode === 0,
  );
  out(
    `worker terminated (exit code ${String(finished?.exitCode)}); its stopped container is kept for ${ttlMs} ms`,
  );
  await awaitCleanup(hello, check);
  return true;
}

/** Waits out the retention, lets the deadline pass remove the worker, and looks for leftovers. */
async function awaitCleanup(hello: Hello, check: Check): Promise<void> {
  const { workerId, events } = hello;
  const { manager } = hello.lifecycle;
  const terminated = events.find(
    (e) => e.type === 'WorkerEphemeralTerminated' && e.workerId === workerId,
  );
  const expires =
    terminated?.type === 'WorkerEphemeralTerminated' && terminated.ttlExpiresAt !== null
      ? Date.parse(terminated.ttlExpiresAt)
      : Date.now();
  await sleep(Math.max(0, expires - Date.now()));
  while (manager.getWorker(workerId) !== undefined && Date.now() < hello.deadline) {
    await manager.runGcCycle();
    if (manager.getWorker(workerId) !== undefined) await sleep(100);
  }
  check('the GC cleaned it up after its TTL', manager.getWorker(workerId) === undefined);

  const left = await hello.connection.docker.listContainers({
    all: true,
    filters: { label: [`hodei.provider-id=${hello.providerId}`, `hodei.worker-id=${workerId}`] },
  });
  const managedLeft = await hello.provider.listManagedWorkers();
  check(
    'no container of the worker is left',
    left.length === 0 && managedLeft.isOk() && managedLeft.value.length === 0,
  );
}

function printTimeline(hello: Hello, check: Check): void {
  const { out } = hello.options;
  out('');
  out('event timeline:');
  // Passes that found nothing to do are left out of the timeline.
  for (const e of hello.events.filter(
    (x) => x.type !== 'GarbageCollectionCompleted' || x.workersCleaned > 0,
  )) {
    const at = ((Date.parse(e.occurredAt) - hello.started) / 1000).toFixed(2).padStart(6);
    out(`  +${at}s  ${e.type}${describe(e)}`);
  }
  const mine = hello.events
    .filter((e) => 'workerId' in e && e.workerId === hello.workerId)
    .map((e) => e.type);
  const expected = [
    'WorkerEphemeralCreated',
    'WorkerEphemeralReady',
    'WorkerEphemeralBusy',
    'WorkerEphemeralTerminated',
    'WorkerEphemeralCleanedUp',
  ];
  check(
    `the events were ${expected.join(' → ')}`,
    JSON.stringify(mine) === JSON.stringify(expected),
  );
}

function describe(e: LifecycleEvent): string {
  switch (e.type) {
    case 'WorkerEphemeralCreated':
      return ` (mode ${e.mode}, ttlAfterCompletion ${String(e.ttlAfterCompletionSecs)} s)`;
    case 'WorkerEphemeralTerminated':
      return ` (exit code ${String(e.exitCode)}, cleanup at ${String(e.ttlExpiresAt)})`;
    case 'WorkerEphemeralCleanedUp':
      return ` (${e.cleanupReason})`;
    case 'GarbageCollectionCompleted':
      return ` (cleaned ${e.workersCleaned})`;
    default:
      return '';
  }
}
