import { connect, createServer, type Server, type Socket } from 'node:net';
import type { WorkerId } from '@hodei/domain';
import { dockerProfile } from '@hodei/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerName } from './container-name.js';
import { connectDocker } from './docker-connection.js';
import { DockerWorkerProvider } from './docker-worker-provider.js';
import { startDockerTestRun, testWorkerImage, type DockerTestRun } from './testing/index.js';

/**
 * A proxy in front of the engine's socket that holds every container-create request for a
 * while before passing it on: the provider's call times out, and the engine creates the
 * container afterwards, when nobody waits for it any more.
 */
function slowCreateProxy(
  socketPath: string,
  holdMs: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer((client: Socket) => {
    const upstream = connect(socketPath);
    let queue = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      const hold = chunk.toString('latin1').includes('/containers/create');
      queue = queue.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(
              () => {
                upstream.write(chunk);
                resolve();
              },
              hold ? holdMs : 0,
            ),
          ),
      );
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!client.destroyed) client.write(chunk);
    });
    // The engine keeps its connection after the client gave up, so it finishes the request.
    client.on('close', () => setTimeout(() => upstream.destroy(), holdMs * 3).unref());
    client.on('error', () => undefined);
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address !== null ? address.port : 0 });
    }),
  );
}

describe('a container-create that times out', () => {
  let run: DockerTestRun;
  let proxy: { server: Server; port: number };

  beforeAll(async () => {
    run = await startDockerTestRun();
    const host = process.env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
    if (!host.startsWith('unix://'))
      throw new Error("this test proxies the engine's unix socket; set DOCKER_HOST=unix://…");
    proxy = await slowCreateProxy(host.slice('unix://'.length), 2_000);
  });

  afterAll(async () => {
    await new Promise((resolve) => proxy?.server.close(resolve));
    await run?.cleanup();
  });

  it('leaves nothing behind when the engine creates the container after the call gave up', async () => {
    const slow = DockerWorkerProvider.create({
      providerId: run.providerId,
      connection: connectDocker(`tcp://127.0.0.1:${proxy.port}`),
      callTimeoutMs: 500,
    })._unsafeUnwrap();
    const workerId = `${run.runId}-late` as WorkerId;
    const created = await slow.createWorker({
      workerId,
      mode: 'job',
      image: testWorkerImage(),
      command: ['sh', '-c', 'sleep 3600'],
      policy: dockerProfile,
    });
    expect(created.isErr() && created.error.type).toBe('ProviderTimeout');
    // The engine creates it about 2 s later; the provider looks again and removes it.
    const named = () =>
      run.connection.docker.listContainers({
        all: true,
        filters: { name: [containerName(run.providerId, workerId)] },
      });
    const deadline = Date.now() + 20_000;
    let sawIt = false;
    let left = await named();
    while (Date.now() < deadline) {
      left = await named();
      sawIt ||= left.length > 0;
      if (sawIt && left.length === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sawIt).toBe(true);
    expect(left).toEqual([]);
  });
});
