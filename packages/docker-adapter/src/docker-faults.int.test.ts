import {
  dockerProfile,
  EphemeralWorkerPolicy,
  OWNERSHIP_LABELS,
  ownershipLabels,
  type WorkerId,
} from '@hodei/domain';
import { RecordingPublisher } from '@hodei/domain/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDockerLifecycle, type DockerLifecycle } from './docker-lifecycle-manager.js';
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

const policy = EphemeralWorkerPolicy.builder({
  ...dockerProfile,
  maxLifetime: 60_000,
  idleTimeout: 30_000,
  startupTimeout: 30_000,
  ttlAfterCompletion: 60_000,
  gracefulTerminationTimeout: 1_000,
})
  .build()
  ._unsafeUnwrap();

/** Bounded polling: how fast it happens is the benchmark's business. */
async function eventually<T>(read: () => T | Promise<T>, done: (v: T) => boolean, what: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function setup() {
  const providerId = run.providerIdFor(`f${++counter}`);
  const provider = DockerWorkerProvider.create({
    providerId,
    connection: run.connection,
  })._unsafeUnwrap();
  const publisher = new RecordingPublisher();
  const lifecycle = createDockerLifecycle({ provider, publisher, policy })._unsafeUnwrap();
  open.push(lifecycle);
  return { providerId, provider, publisher, lifecycle };
}

const containersOf = (id: WorkerId) =>
  run.connection.docker.listContainers({
    all: true,
    filters: { label: [`${OWNERSHIP_LABELS.workerId}=${id}`] },
  });

describe('faults behind the server back, on the real engine', () => {
  it('reports a container of ours whose policy label is corrupt, once, with why', async () => {
    const s = setup();
    const workerId = `${run.runId}-corrupt-${counter}` as WorkerId;
    const labels = {
      ...ownershipLabels(
        { workerId, mode: 'job', image: testWorkerImage(), policy },
        s.providerId,
        Date.now(),
      ),
      [OWNERSHIP_LABELS.policy]: '{"maxLifetime": "soon"',
    };
    const container = await run.connection.docker.createContainer({
      Image: testWorkerImage(),
      Cmd: ['sh', '-c', 'sleep 3600'],
      Labels: labels,
    });
    run.track(container.id);
    try {
      const report = (await s.lifecycle.manager.recover())._unsafeUnwrap();
      expect(report.unreadable).toBe(1);
      await s.lifecycle.manager.reconcile();
      await s.lifecycle.manager.reconcile();
      expect(s.publisher.ofType('OrphanWorkerDetected')).toEqual([
        expect.objectContaining({
          resourceId: container.id,
          workerId,
          reason: 'UnreadableLabels',
          detail: 'missing or unreadable policy',
          action: 'reported',
        }),
      ]);
      // Reported, not removed: the docker profile's orphan action is 'report'.
      expect((await containersOf(workerId)).map((c) => c.Id)).toEqual([container.id]);
    } finally {
      await container.remove({ force: true });
    }
  });

  it('reports a tracked job and agent removed with docker rm -f as WorkerLost', async () => {
    const s = setup();
    const ids: WorkerId[] = [];
    for (const mode of ['job', 'agent'] as const) {
      const workerId = `${run.runId}-rm-${++counter}` as WorkerId;
      const created = await s.lifecycle.provider.createWorker({
        workerId,
        mode,
        image: testWorkerImage(),
        command: ['sh', '-c', 'sleep 3600'],
        policy,
      });
      expect(created.isOk()).toBe(true);
      ids.push(workerId);
    }
    for (const id of ids) {
      await eventually(
        () => s.lifecycle.manager.getWorker(id)?.state,
        (state) => state === 'busy' || state === 'ready',
        `${id} running`,
      );
    }
    for (const id of ids) {
      const [found] = await containersOf(id);
      await run.connection.docker.getContainer(found!.Id).remove({ force: true });
    }
    await eventually(
      () => s.publisher.ofType('WorkerLost').map((e) => e.workerId),
      (lost) => ids.every((id) => lost.includes(id)),
      'WorkerLost for both',
    );
    expect(s.publisher.ofType('WorkerLost')).toHaveLength(2);
  });
});
