import {
  dockerProfile,
  OWNERSHIP_LABELS,
  EphemeralWorkerPolicy,
  type EphemeralWorkerPolicy as Policy,
  type ProviderId,
  type Worker,
  type WorkerId,
  type WorkerSpec,
} from '@hodei/domain';
import { RecordingPublisher } from '@hodei/domain/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createDockerLifecycle,
  DockerLifecycleManager,
  type DockerLifecycle,
} from './docker-lifecycle-manager.js';
import type { DockerWorkerProviderOptions } from './docker-provider-options.js';
import { DockerWorkerProvider } from './docker-worker-provider.js';
import { startDockerTestRun, testWorkerImage, type DockerTestRun } from './testing/index.js';

let run: DockerTestRun;
let counter = 0;
const open: DockerLifecycle[] = [];

beforeAll(async () => {
  run = await startDockerTestRun();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((lifecycle) => lifecycle.close()));
});

afterAll(async () => {
  await run?.cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Short policies: seconds where the profile has minutes. */
const shortPolicy = (overrides: Partial<Policy> = {}): Policy =>
  EphemeralWorkerPolicy.builder({
    ...dockerProfile,
    maxLifetime: 60_000,
    idleTimeout: 30_000,
    startupTimeout: 30_000,
    ttlAfterCompletion: 60_000,
    gracefulTerminationTimeout: 1_000,
    ...overrides,
  })
    .build()
    ._unsafeUnwrap();

const providerFor = (
  providerId: ProviderId,
  options: Partial<DockerWorkerProviderOptions> = {},
): DockerWorkerProvider =>
  DockerWorkerProvider.create({
    providerId,
    connection: run.connection,
    ...options,
  })._unsafeUnwrap();

interface Setup {
  readonly lifecycle: DockerLifecycle;
  readonly publisher: RecordingPublisher;
  readonly provider: DockerWorkerProvider;
  create(overrides?: Partial<WorkerSpec>): Promise<WorkerId>;
}

function setup(
  policy: Policy,
  options: { providerId?: ProviderId; provider?: Partial<DockerWorkerProviderOptions> } = {},
): Setup {
  const provider = providerFor(
    options.providerId ?? run.providerIdFor(`m${++counter}`),
    options.provider,
  );
  const publisher = new RecordingPublisher();
  const lifecycle = createDockerLifecycle({ provider, publisher, policy })._unsafeUnwrap();
  open.push(lifecycle);
  return {
    lifecycle,
    publisher,
    provider,
    create: async (overrides = {}) => {
      const workerId = `${run.runId}-${++counter}` as WorkerId;
      const created = await lifecycle.provider.createWorker({
        workerId,
        mode: 'job',
        image: testWorkerImage(),
        command: ['sh', '-c', 'sleep 3600'],
        policy,
        ...overrides,
      });
      if (created.isErr()) throw new Error(`create failed: ${JSON.stringify(created.error)}`);
      return workerId;
    },
  };
}

/** Waits generously; how fast it happens is the benchmark's business. */
async function eventually<T>(
  read: () => T | Promise<T>,
  done: (v: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(100);
  }
}

const stateOf = (s: Setup, id: WorkerId): Worker | undefined => s.lifecycle.manager.getWorker(id);

const untilState = (s: Setup, id: WorkerId, state: Worker['state']): Promise<Worker | undefined> =>
  eventually(
    () => stateOf(s, id),
    (w) => w?.state === state,
    `${id} ${state}`,
  );

/** By labels, which decide ownership, not by name: the tests' providers have several ids. */
const containersNamed = async (id: WorkerId) =>
  run.connection.docker.listContainers({
    all: true,
    filters: { label: [`${OWNERSHIP_LABELS.workerId}=${id}`] },
  });

const containerOf = async (id: WorkerId) => {
  const [found] = await containersNamed(id);
  if (found === undefined) throw new Error(`no container for worker ${id}`);
  return run.connection.docker.getContainer(found.Id);
};

const containerState = async (id: WorkerId): Promise<string | undefined> =>
  (await containersNamed(id))[0]?.State;

/** `docker ps` reads a replica that can lag the events by a moment: wait for it. */
const untilContainer = (id: WorkerId, state: string | undefined): Promise<string | undefined> =>
  eventually(
    () => containerState(id),
    (s) => s === state,
    `container of ${id} ${String(state)}`,
  );

describe("the seed's three tests on the real engine", () => {
  it('creates a worker: Created and Ready events, and a running container', async () => {
    const s = setup(shortPolicy());
    const id = await s.create();
    await untilState(s, id, 'busy');
    expect(s.publisher.typesFor(id)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
    ]);
    expect(await containerState(id)).toBe('running');
  });

  it('removes the container of a worker that exited once its TTL has passed', async () => {
    const s = setup(shortPolicy({ ttlAfterCompletion: 1_000 }));
    const id = await s.create({ command: ['sh', '-c', 'echo done'] });
    const terminated = await untilState(s, id, 'terminated');
    expect(terminated).toMatchObject({ exitCode: 0, terminationReason: 'JobCompleted' });
    await untilContainer(id, 'exited');
    await sleep(1_200);
    const stats = (await s.lifecycle.manager.runGcCycle())._unsafeUnwrap();
    expect(stats.ttlExpired).toBe(1);
    expect(await containersNamed(id)).toEqual([]);
    expect(s.publisher.ofType('WorkerEphemeralCleanedUp')).toMatchObject([
      { workerId: id, cleanupReason: 'TtlExpired' },
    ]);
  });

  it('cleans finished workers in a forced GC and emits CleanedUp and GarbageCollectionCompleted', async () => {
    const s = setup(shortPolicy({ ttlAfterCompletion: 0 }));
    const ids = [
      await s.create({ command: ['sh', '-c', 'exit 0'] }),
      await s.create({ command: ['sh', '-c', 'exit 2'] }),
    ];
    for (const id of ids) await untilState(s, id, 'terminated');
    const stats = (await s.lifecycle.manager.runGcCycle())._unsafeUnwrap();
    expect(stats.workersCleaned).toBe(2);
    for (const id of ids) {
      expect(s.lifecycle.manager.getWorker(id)).toBeUndefined();
      expect(await containersNamed(id)).toEqual([]);
    }
    expect(
      s.publisher
        .ofType('WorkerEphemeralCleanedUp')
        .map((e) => e.workerId)
        .sort(),
    ).toEqual([...ids].sort());
    expect(s.publisher.ofType('GarbageCollectionCompleted').at(-1)).toMatchObject({
      workersCleaned: 2,
      errors: 0,
    });
  });
});

describe('deadlines end real containers', () => {
  it('terminates a worker past its max lifetime, busy or not, and stops its container', async () => {
    const s = setup(shortPolicy({ maxLifetime: 1_500, idleTimeout: 1_000, startupTimeout: 1_000 }));
    const id = await s.create();
    await untilState(s, id, 'busy');
    await sleep(1_700);
    await s.lifecycle.manager.runGcCycle();
    // The pass decides; the stop it started runs in the background.
    await s.lifecycle.manager.whenStopsSettled();
    expect(stateOf(s, id)).toMatchObject({
      state: 'terminated',
      terminationReason: 'LifetimeExceeded',
    });
    await untilContainer(id, 'exited');
  });

  it('terminates an agent idle past its idle timeout and stops its container', async () => {
    const s = setup(shortPolicy({ idleTimeout: 1_000 }));
    const id = await s.create({ mode: 'agent' });
    await untilState(s, id, 'ready');
    await sleep(1_200);
    await s.lifecycle.manager.runGcCycle();
    await s.lifecycle.manager.whenStopsSettled();
    expect(stateOf(s, id)).toMatchObject({ state: 'terminated', terminationReason: 'IdleTimeout' });
    expect(s.publisher.typesFor(id)).toContain('WorkerEphemeralIdle');
    await untilContainer(id, 'exited');
  });

  it('never ends a busy agent for idleness', async () => {
    const s = setup(shortPolicy({ idleTimeout: 1_000 }));
    const id = await s.create({ mode: 'agent' });
    await untilState(s, id, 'ready');
    (await s.lifecycle.manager.markWorkerBusy(id))._unsafeUnwrap();
    await sleep(1_200);
    await s.lifecycle.manager.runGcCycle();
    expect(stateOf(s, id)?.state).toBe('busy');
    expect(s.publisher.typesFor(id)).not.toContain('WorkerEphemeralIdle');
    expect(await containerState(id)).toBe('running');
  });

  it('ends an agent whose healthcheck reports unhealthy with HealthCheckFailed', async () => {
    const s = setup(shortPolicy(), {
      provider: {
        healthcheck: (spec) =>
          spec.mode === 'agent'
            ? { test: ['sh', '-c', 'exit 1'], intervalMs: 200, timeoutMs: 1_000, retries: 1 }
            : undefined,
      },
    });
    const id = await s.create({ mode: 'agent' });
    const ended = await untilState(s, id, 'terminated');
    expect(ended?.terminationReason).toBe('HealthCheckFailed');
    await untilContainer(id, 'exited');
  });
});

describe('changes behind our back', () => {
  it('marks a container killed with docker kill terminated through the events stream', async () => {
    const s = setup(shortPolicy());
    const id = await s.create();
    await untilState(s, id, 'busy');
    await (await containerOf(id)).kill();
    const ended = await untilState(s, id, 'terminated');
    expect(ended?.exitCode).toBe(137);
    expect(s.publisher.ofType('WorkerEphemeralTerminated').at(-1)).toMatchObject({
      workerId: id,
      actor: 'watch',
    });
  });

  it('marks an agent whose container dies terminated at once', async () => {
    const s = setup(shortPolicy());
    const id = await s.create({ mode: 'agent', command: ['sh', '-c', 'sleep 1; exit 3'] });
    const ended = await untilState(s, id, 'terminated');
    expect(ended?.exitCode).toBe(3);
    expect(s.publisher.ofType('WorkerEphemeralTerminated').at(-1)).toMatchObject({
      workerId: id,
      actor: 'watch',
    });
  });

  it('reports a container removed while no event came as WorkerLost', async () => {
    const s = setup(shortPolicy());
    const id = await s.create();
    await untilState(s, id, 'busy');
    await s.lifecycle.close(); // the events are missed, as when the daemon drops a slow subscriber
    await (await containerOf(id)).remove({ force: true });
    const stats = (await s.lifecycle.manager.reconcile())._unsafeUnwrap();
    expect(stats.lost).toBe(1);
    expect(s.publisher.ofType('WorkerLost')).toMatchObject([
      { workerId: id, lastKnownState: 'busy' },
    ]);
    expect(stateOf(s, id)?.state).toBe('terminated');
  });
});

describe('recovery', () => {
  it('re-adopts running and exited workers with their creation time, mode and policy, and removes none early', async () => {
    const providerId = run.providerIdFor('recovery');
    const policy = shortPolicy({ ttlAfterCompletion: 120_000 });
    const first = setup(policy, { providerId });
    const agent = await first.create({ mode: 'agent' });
    const job = await first.create();
    const done = await first.create({ command: ['sh', '-c', 'exit 5'] });
    await untilState(first, agent, 'ready');
    await untilState(first, job, 'busy');
    await untilState(first, done, 'terminated');
    // The listing recovery reads can lag the die event the first manager heard.
    await untilContainer(done, 'exited');
    const before = new Map([agent, job, done].map((id) => [id, stateOf(first, id)]));
    await first.lifecycle.close();

    // A new process: a new provider instance and manager over the same engine and provider id.
    const publisher = new RecordingPublisher();
    const manager = new DockerLifecycleManager({ provider: providerFor(providerId), publisher });
    const report = (await manager.recover())._unsafeUnwrap();
    expect(report).toEqual({ recovered: 3, alreadyTracked: 0, unreadable: 0 });
    for (const id of [agent, job, done]) {
      const original = before.get(id);
      expect(manager.getWorker(id)).toMatchObject({
        createdAt: original?.createdAt,
        mode: original?.mode,
        policy,
        resourceId: original?.resourceId,
      });
    }
    expect(manager.getWorker(agent)?.state).toBe('ready');
    expect(manager.getWorker(job)?.state).toBe('busy');
    expect(manager.getWorker(done)).toMatchObject({ state: 'terminated', exitCode: 5 });
    expect(publisher.ofType('WorkerRecovered')).toHaveLength(3);

    await manager.runGcCycle();
    await manager.reconcile();
    expect(await containerState(agent)).toBe('running');
    expect(await containerState(job)).toBe('running');
    await untilContainer(done, 'exited');
  });
});

describe('orphans', () => {
  const TEN_MINUTES_AGO = (): number => Date.now() - 10 * 60_000;

  it('reports an old untracked container, removes it when told to, leaves a young one and never touches foreign ones', async () => {
    const providerId = run.providerIdFor('orphans');
    // Containers of ours that no manager tracks: one created "ten minutes ago", one just now.
    const old = (
      await providerFor(providerId, { clock: { now: TEN_MINUTES_AGO } }).createWorker({
        workerId: `${run.runId}-old` as WorkerId,
        mode: 'job',
        image: testWorkerImage(),
        command: ['sh', '-c', 'sleep 3600'],
        policy: dockerProfile,
      })
    )._unsafeUnwrap();
    const young = (
      await providerFor(providerId).createWorker({
        workerId: `${run.runId}-young` as WorkerId,
        mode: 'job',
        image: testWorkerImage(),
        command: ['sh', '-c', 'sleep 3600'],
        policy: dockerProfile,
      })
    )._unsafeUnwrap();
    // Foreign: another provider id's labels (old), and no labels at all.
    const docker = run.connection.docker;
    const foreignLabels = {
      'hodei.managed': 'true',
      'hodei.provider-id': run.otherProviderId,
      'hodei.worker-id': `${run.runId}-foreign`,
      'hodei.created-at': new Date(TEN_MINUTES_AGO()).toISOString(),
    };
    const foreign = [
      await docker.createContainer({
        Image: testWorkerImage(),
        Cmd: ['sleep', '3600'],
        Labels: foreignLabels,
      }),
      await docker.createContainer({ Image: testWorkerImage(), Cmd: ['sleep', '3600'] }),
    ];
    for (const c of foreign) {
      run.track(c.id);
      await c.start();
    }

    const orphanPolicy = (orphanAction: 'report' | 'remove'): Policy =>
      shortPolicy({ orphanDetectionEnabled: true, orphanGracePeriod: 60_000, orphanAction });

    const reporting = setup(orphanPolicy('report'), { providerId });
    const reported = (await reporting.lifecycle.manager.cleanupOrphans())._unsafeUnwrap();
    expect(reported).toEqual({ detected: 1, removed: 0, errors: 0 });
    expect(reporting.publisher.ofType('OrphanWorkerDetected')).toMatchObject([
      { resourceId: old.resourceId, action: 'reported' },
    ]);
    expect(await containerState(old.workerId)).toBe('running');

    const removing = setup(orphanPolicy('remove'), { providerId });
    const removed = (await removing.lifecycle.manager.cleanupOrphans())._unsafeUnwrap();
    expect(removed).toEqual({ detected: 1, removed: 1, errors: 0 });
    expect(await containersNamed(old.workerId)).toEqual([]);
    expect(await containerState(young.workerId)).toBe('running');
    for (const c of foreign) expect((await c.inspect()).State.Running).toBe(true);
  });
});
