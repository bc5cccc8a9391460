import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerName, type DockerConnection } from '@hodei/docker-adapter';
import {
  requireTestDocker,
  startEngineProxy,
  TEST_RUN_LABEL,
  type EngineProxy,
} from '@hodei/docker-adapter/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerKey } from './docker-settings.js';
import { removeContainersOf, uniqueProviderId } from '../testing/server-process.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';

/**
 * Docker providers configured one by one, on the real engine: names that carry the provider
 * (two providers on one engine, one client-chosen id), and each provider's own engine,
 * network and limits reaching its containers, from the environment and from the YAML file.
 * The "second engine" is the same engine behind a TCP proxy: another address, its own
 * connection, and the proxy shows which provider used it.
 */

const passThrough = (...names: string[]): Record<string, string> =>
  Object.fromEntries(
    names.flatMap((n) => (process.env[n] === undefined ? [] : [[n, process.env[n] ?? '']])),
  );

let docker: DockerConnection['docker'];
const servers: TestServer[] = [];
const providerIds: string[] = [];

beforeAll(async () => {
  docker = (await requireTestDocker()).docker;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (docker !== undefined) await removeContainersOf(docker, providerIds);
});

async function server(env: Record<string, string>): Promise<TestServer> {
  const started = await startTestServer({
    ...passThrough('DOCKER_HOST', 'HODEI_WORKER_IMAGE'),
    ...env,
  });
  servers.push(started);
  return started;
}

const sleeper = ['sh', '-c', 'sleep 3600'];

describe('Docker providers configured one by one', () => {
  it('lets two providers on one engine create the same worker id, docker ps naming the owner', async () => {
    const a = uniqueProviderId();
    const b = uniqueProviderId();
    providerIds.push(a, b);
    const first = await server({ HODEI_PROVIDERS: `docker:${a}` });
    const second = await server({ HODEI_PROVIDERS: `docker:${b}` });
    const id = `job-${a}`;
    for (const [t, providerId] of [
      [first, a],
      [second, b],
    ] as const) {
      const created = await t.api('POST', '/v1/workers', {
        body: { id, providerId, command: sleeper },
      });
      expect(created.status).toBe(201);
      const info = await docker.getContainer(created.body.resourceId as string).inspect();
      expect(info.Name).toBe(`/hodei-${providerId}.${id}`);
    }
    const named = await docker.listContainers({ filters: { name: [id] } });
    expect(named.map((c) => c.Names[0]).sort()).toEqual(
      [`/${containerName(a, id)}`, `/${containerName(b, id)}`].sort(),
    );
  });

  describe('each with its own engine, network and limits', () => {
    let proxy: EngineProxy;
    let dir: string;
    const network = `hodei-test-${uniqueProviderId()}`;

    beforeAll(async () => {
      proxy = await startEngineProxy();
      dir = mkdtempSync(join(tmpdir(), 'hodei-e2e-config-'));
      await docker.createNetwork({ Name: network, Labels: { [TEST_RUN_LABEL]: network } });
    });

    afterAll(async () => {
      await Promise.all(servers.splice(0).map((s) => s.stop()));
      await removeContainersOf(docker, providerIds);
      await docker
        .getNetwork(network)
        .remove()
        .catch(() => undefined);
      await proxy?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('gives each provider what the file and its variables say, and nothing of the other’s', async () => {
      const local = uniqueProviderId();
      const remote = uniqueProviderId();
      providerIds.push(local, remote);
      const file = join(dir, 'hodei.yaml');
      writeFileSync(
        file,
        `# Two docker providers: one on the local socket, one on "another host".
docker:
  workerDefaults: { pidsLimit: 128 }
providers:
  - kind: docker
    id: ${local}
  - kind: docker
    id: ${remote}
    dockerHost: ${proxy.dockerHost}
    workerDefaults: { memoryMb: 300, cpus: 0.5 }
`,
      );
      const t = await server({
        HODEI_CONFIG_FILE: file,
        // The file lists the providers; the environment adds the local one's network.
        HODEI_PROVIDERS: '',
        [`HODEI_PROVIDER_${providerKey(local)}_DOCKER_NETWORK`]: network,
      });
      const onLocal = await t.api('POST', '/v1/workers', {
        body: { id: `${local}-w`, providerId: local, command: sleeper },
      });
      const onRemote = await t.api('POST', '/v1/workers', {
        body: { id: `${remote}-w`, providerId: remote, command: sleeper },
      });
      expect([onLocal.status, onRemote.status]).toEqual([201, 201]);

      const localInfo = await docker.getContainer(onLocal.body.resourceId as string).inspect();
      expect(localInfo.HostConfig.NetworkMode).toBe(network);
      expect(localInfo.HostConfig).toMatchObject({ PidsLimit: 128, Memory: 1024 * 1024 * 1024 });
      const remoteInfo = await docker.getContainer(onRemote.body.resourceId as string).inspect();
      expect(remoteInfo.HostConfig.NetworkMode).not.toBe(network);
      expect(remoteInfo.HostConfig).toMatchObject({
        PidsLimit: 128,
        Memory: 300 * 1024 * 1024,
        NanoCpus: 500_000_000,
      });

      // Only the remote provider's calls went through its host.
      const creates = proxy
        .requests()
        .filter((r) => r.startsWith('POST ') && r.includes('/containers/create'));
      expect(creates).toEqual([
        expect.stringContaining(`name=${containerName(remote, `${remote}-w`)}`) as string,
      ]);
      expect(proxy.requests().some((r) => r.includes(`hodei.provider-id%3D${local}`))).toBe(false);
      expect(proxy.requests().some((r) => r.includes(remote))).toBe(true);
    });
  });
});
