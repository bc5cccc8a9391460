import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { dockerProfile, type ProviderId, type WorkerHandle, type WorkerId } from '@hodei/domain';
import { describe, expect, it } from 'vitest';
import { connectDocker } from './docker-connection.js';
import { dockerEngineInfo } from './docker-engine.js';
import { DockerWorkerProvider } from './docker-worker-provider.js';

// A DOCKER_HOST that points at nothing: the shared engine is never stopped for these tests.
const missingSocket = join(tmpdir(), `hodei-no-docker-${randomBytes(4).toString('hex')}.sock`);
const dockerHost = `unix://${missingSocket}`;

const provider = DockerWorkerProvider.create({
  providerId: 'unavailable-test' as ProviderId,
  connection: connectDocker(dockerHost),
  callTimeoutMs: 5_000,
  watchBackoff: { initialMs: 20, maxMs: 50 },
})._unsafeUnwrap();

const handle: WorkerHandle = {
  workerId: 'w1' as WorkerId,
  resourceId: 'hodei-worker-w1',
  providerId: provider.providerId,
  createdAt: 0,
};

const expectUnavailable = (error: unknown): void => {
  expect(error).toMatchObject({
    type: 'ProviderUnavailable',
    providerId: 'unavailable-test',
    endpoint: dockerHost,
    retryable: true,
  });
  const message = (error as { message: string }).message;
  expect(message).toContain('DockerUnavailable');
  expect(message).toContain(missingSocket);
};

describe('DockerWorkerProvider with a DOCKER_HOST that points at nothing', () => {
  it('fails createWorker with DockerUnavailable naming the socket', async () => {
    const result = await provider.createWorker({
      workerId: 'w1' as WorkerId,
      mode: 'job',
      image: 'hodei/worker:0.1.0',
      policy: dockerProfile,
    });
    expectUnavailable(result._unsafeUnwrapErr());
  });

  it('fails every other call the same way instead of throwing', async () => {
    const results = await Promise.all([
      provider.health(),
      provider.listManagedWorkers(),
      provider.getWorkerStatus(handle),
      provider.stopWorker(handle, { gracePeriod: 0 }),
      provider.destroyWorker(handle, { gracePeriod: 0 }),
      provider.logs(handle, { tail: 1 }),
    ]);
    for (const result of results) expectUnavailable(result._unsafeUnwrapErr());
  });

  it('keeps a watch retrying quietly until it is closed', async () => {
    const seen: unknown[] = [];
    const subscription = provider.watch((event) => seen.push(event));
    await new Promise((resolve) => setTimeout(resolve, 300));
    subscription.close();
    expect(seen).toEqual([]);
  });

  it('reports DockerUnavailable from dockerEngineInfo, for the server doctor', async () => {
    const info = await dockerEngineInfo(connectDocker(dockerHost));
    expect(info._unsafeUnwrapErr()).toMatchObject({
      type: 'DockerUnavailable',
      endpoint: dockerHost,
    });
  });

  it('names a TCP host that refuses connections', async () => {
    const tcp = DockerWorkerProvider.create({
      providerId: 'unavailable-test' as ProviderId,
      connection: connectDocker('tcp://127.0.0.1:1'),
    })._unsafeUnwrap();
    const error = (await tcp.health())._unsafeUnwrapErr();
    expect(error).toMatchObject({ type: 'ProviderUnavailable', endpoint: 'tcp://127.0.0.1:1' });
    expect(error.message).toMatch(/DockerUnavailable.*tcp:\/\/127\.0\.0\.1:1/);
  });

  it('times out a call to a daemon that accepts connections and never answers', async () => {
    const held = new Set<Socket>();
    const silent = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const stuck = DockerWorkerProvider.create({
        providerId: 'unavailable-test' as ProviderId,
        connection: connectDocker(`tcp://127.0.0.1:${port}`),
        callTimeoutMs: 300,
      })._unsafeUnwrap();
      const error = (await stuck.listManagedWorkers())._unsafeUnwrapErr();
      expect(error).toMatchObject({
        type: 'ProviderTimeout',
        operation: 'listContainers',
        timeoutMs: 300,
      });
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('answers a DOCKER_HOST it cannot parse with DockerUnavailable instead of throwing', async () => {
    const odd = DockerWorkerProvider.create({
      providerId: 'unavailable-test' as ProviderId,
      connection: connectDocker('not a host'),
    })._unsafeUnwrap();
    const error = (await odd.health())._unsafeUnwrapErr();
    expect(error).toMatchObject({ type: 'ProviderUnavailable', endpoint: 'not a host' });
  });
});
