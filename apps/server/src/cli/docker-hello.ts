import { randomBytes } from 'node:crypto';
import {
  EphemeralWorkerPolicy,
  dockerProfile,
  parseProviderId,
  type LifecycleEvent,
  type WorkerId,
} from '@hodei/domain';
import {
  connectDocker,
  createDockerLifecycle,
  dockerEngineInfo,
  DockerWorkerProvider,
} from '@hodei/docker-adapter';
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

/**
 * `hodei job docker-hello` (the seed's `just job-docker-hello`), in-process: one job worker
 * runs `echo Hello from Docker provider` under lifecycle management; its output, its event
 * timeline, the TTL cleanup and the absence of any container left are shown and checked.
 * Returns the exit code: 0 when everything held.
 */
export async function dockerHello(options: HelloOptions): Promise<number> {
  const { out } = options;
  const ttlMs = options.ttlMs ?? 3_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const connection = connectDocker(options.dockerHost);
  const engine = await dockerEngineInfo(connection);
  if (engine.isErr()) {
    out(`FAIL ${engine.error.message}`);
    out('hint: run scripts/services.sh up');
    return 1;
  }
  out(`Docker Engine ${engine.value.version} at ${connection.endpoint}`);

  // A provider id of its own: nothing else on this engine is ever touched.
  const providerId = parseProviderId(`hello-${randomBytes(3).toString('hex')}`)._unsafeUnwrap();
  const provider = DockerWorkerProvider.create({
    providerId,
    connection,
    pullPolicy: 'IfNotPresent',
  });
  if (provider.isErr()) {
    out(`FAIL ${provider.error.message}`);
    return 1;
  }
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
  if (lifecycle.isErr()) {
    out(`FAIL ${lifecycle.error.message}`);
    return 1;
  }
  const { manager, provider: managed } = lifecycle.value;
  const workerId = `hello-${Date.now().toString(36)}` as WorkerId;
  const checks: { name: string; ok: boolean }[] = [];
  const check = (name: string, ok: boolean) => {
    checks.push({ name, ok });
  };
  const started = Date.now();

  try {
    out(
      `creating job worker ${workerId} (image ${options.image}, provider ${providerId}, retention ${ttlMs} ms)`,
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
      return 1;
    }
    const handle = created.value;
    out(`container hodei-worker-${workerId} (${handle.resourceId.slice(0, 12)})`);

    const output: string[] = [];
    const logs = await provider.value.logs(handle, { follow: true });
    if (logs.isOk()) {
      for await (const line of logs.value) {
        output.push(line.line);
        out(`  | ${line.line}`);
      }
    }
    check(`the job printed "${GREETING}"`, output.includes(GREETING));

    const deadline = started + timeoutMs;
    while (manager.getWorker(workerId)?.state !== 'terminated' && Date.now() < deadline) {
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

    // Wait out the retention, then let the deadline pass remove it.
    const terminated = events.find(
      (e) => e.type === 'WorkerEphemeralTerminated' && e.workerId === workerId,
    );
    const expires =
      terminated?.type === 'WorkerEphemeralTerminated' && terminated.ttlExpiresAt !== null
        ? Date.parse(terminated.ttlExpiresAt)
        : Date.now();
    await sleep(Math.max(0, expires - Date.now()));
    while (manager.getWorker(workerId) !== undefined && Date.now() < deadline) {
      await manager.runGcCycle();
      if (manager.getWorker(workerId) !== undefined) await sleep(100);
    }
    check('the GC cleaned it up after its TTL', manager.getWorker(workerId) === undefined);

    const left = await connection.docker.listContainers({
      all: true,
      filters: { name: [`hodei-worker-${workerId}`] },
    });
    const managedLeft = await provider.value.listManagedWorkers();
    check(
      'no hodei-worker container is left',
      left.length === 0 && managedLeft.isOk() && managedLeft.value.length === 0,
    );
  } finally {
    lifecycle.value.close();
  }

  out('');
  out('event timeline:');
  // Passes that found nothing to do are left out of the timeline.
  for (const e of events.filter(
    (x) => x.type !== 'GarbageCollectionCompleted' || x.workersCleaned > 0,
  )) {
    const at = ((Date.parse(e.occurredAt) - started) / 1000).toFixed(2).padStart(6);
    out(`  +${at}s  ${e.type}${describe(e)}`);
  }
  const mine = events.filter((e) => 'workerId' in e && e.workerId === workerId).map((e) => e.type);
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

  out('');
  for (const c of checks) out(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}`);
  const ok = checks.every((c) => c.ok);
  out(ok ? 'docker-hello: the whole lifecycle held' : 'docker-hello: something did not hold');
  return ok ? 0 : 1;
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
