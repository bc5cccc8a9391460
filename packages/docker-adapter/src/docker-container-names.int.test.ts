import { OWNERSHIP_LABELS, type ProviderId, type WorkerSpec } from '@hodei/domain';
import { RecordingPublisher } from '@hodei/domain/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerName, legacyContainerName } from './container-name.js';
import { containerOptions } from './container-options.js';
import { createDockerLifecycle } from './docker-lifecycle-manager.js';
import { DockerWorkerProvider } from './docker-worker-provider.js';
import { startDockerTestRun, type DockerTestRun } from './testing/index.js';

let run: DockerTestRun;

beforeAll(async () => {
  run = await startDockerTestRun();
});

afterAll(async () => {
  await run?.cleanup();
});

const nameOf = async (resourceId: string): Promise<string> =>
  (await run.connection.docker.getContainer(resourceId).inspect()).Name;

/** A running container of `spec` as an earlier version made it: the same labels, the old name. */
async function oldNamedContainer(providerId: ProviderId, spec: WorkerSpec): Promise<string> {
  const options = containerOptions(spec, providerId, Date.now(), { providerId }, undefined);
  const created = await run.connection.docker.createContainer({
    ...options,
    name: legacyContainerName(spec.workerId),
  });
  await created.start();
  return created.id;
}

describe('container names', () => {
  it('lets two providers on one engine create the same worker id, each name showing its owner', async () => {
    const a = run.provider();
    const b = DockerWorkerProvider.create({
      providerId: run.otherProviderId,
      connection: run.connection,
    })._unsafeUnwrap();
    const spec = run.jobSpec();
    const fromA = (await a.createWorker(spec))._unsafeUnwrap();
    const fromB = (await b.createWorker(spec))._unsafeUnwrap();
    expect(await nameOf(fromA.resourceId)).toBe(`/hodei-${run.providerId}.${spec.workerId}`);
    expect(await nameOf(fromB.resourceId)).toBe(
      `/${containerName(run.otherProviderId, spec.workerId)}`,
    );
    expect((await a.listManagedWorkers())._unsafeUnwrap().map((r) => r.resourceId)).toEqual([
      fromA.resourceId,
    ]);
    expect((await b.listManagedWorkers())._unsafeUnwrap().map((r) => r.resourceId)).toEqual([
      fromB.resourceId,
    ]);
    // A second create of the id on one provider still collides.
    expect((await a.createWorker(spec))._unsafeUnwrapErr()).toMatchObject({
      type: 'WorkerAlreadyExists',
      workerId: spec.workerId,
    });
    expect((await a.destroyWorker(fromA, { gracePeriod: 0 })).isOk()).toBe(true);
    expect((await b.getWorkerStatus(fromB))._unsafeUnwrap().state).toBe('running');
    expect((await b.destroyWorker(fromB, { gracePeriod: 0 })).isOk()).toBe(true);
  });

  it('recovers a container an earlier version named hodei-worker-<id>, keeps its id taken, and cleans it up', async () => {
    const providerId = run.providerIdFor('legacy');
    const spec = run.jobSpec();
    const resourceId = await oldNamedContainer(providerId, spec);
    expect(await nameOf(resourceId)).toBe(`/hodei-worker-${spec.workerId}`);

    const provider = DockerWorkerProvider.create({
      providerId,
      connection: run.connection,
    })._unsafeUnwrap();
    const listed = (await provider.listManagedWorkers())._unsafeUnwrap();
    expect(listed).toMatchObject([{ resourceId, status: { state: 'running' } }]);
    expect((await provider.createWorker(spec))._unsafeUnwrapErr()).toMatchObject({
      type: 'WorkerAlreadyExists',
      workerId: spec.workerId,
      message: expect.stringContaining(`hodei-worker-${spec.workerId}`) as string,
    });

    const publisher = new RecordingPublisher();
    const lifecycle = createDockerLifecycle({ provider, publisher })._unsafeUnwrap();
    try {
      expect((await lifecycle.manager.recover())._unsafeUnwrap()).toMatchObject({ recovered: 1 });
      const worker = lifecycle.manager.getWorker(spec.workerId);
      expect(worker).toMatchObject({ resourceId, state: 'busy' });
      if (worker === undefined) return;
      const handle = lifecycle.manager.handleOf(worker);
      expect((await lifecycle.provider.destroyWorker(handle, { gracePeriod: 0 })).isOk()).toBe(
        true,
      );
      const left = await run.connection.docker.listContainers({
        all: true,
        filters: { label: [`${OWNERSHIP_LABELS.providerId}=${providerId}`] },
      });
      expect(left).toEqual([]);
      expect(publisher.ofType('WorkerEphemeralCleanedUp')).toMatchObject([
        { workerId: spec.workerId },
      ]);
    } finally {
      await lifecycle.close();
    }

    // Gone, the id is free again, under the new name.
    const again = (await provider.createWorker(spec))._unsafeUnwrap();
    expect(await nameOf(again.resourceId)).toBe(`/${containerName(providerId, spec.workerId)}`);
    expect((await provider.destroyWorker(again, { gracePeriod: 0 })).isOk()).toBe(true);
  });

  it('stops and removes an old-named container through the bare provider, by its labels', async () => {
    const providerId = run.providerIdFor('legacy-bare');
    const spec = run.jobSpec();
    const resourceId = await oldNamedContainer(providerId, spec);
    const provider = DockerWorkerProvider.create({
      providerId,
      connection: run.connection,
    })._unsafeUnwrap();
    const [resource] = (await provider.listManagedWorkers())._unsafeUnwrap();
    expect(resource?.labels[OWNERSHIP_LABELS.workerId]).toBe(spec.workerId);
    const handle = {
      workerId: spec.workerId,
      resourceId,
      providerId,
      createdAt: resource?.createdAt ?? 0,
    };
    expect((await provider.stopWorker(handle, { gracePeriod: 0 })).isOk()).toBe(true);
    expect((await provider.getWorkerStatus(handle))._unsafeUnwrap()).toMatchObject({
      state: 'exited',
    });
    expect((await provider.destroyWorker(handle, { gracePeriod: 0 })).isOk()).toBe(true);
    expect((await provider.getWorkerStatus(handle))._unsafeUnwrap()).toEqual({ state: 'missing' });
  });
});
