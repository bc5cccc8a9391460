import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dockerProfile,
  OWNERSHIP_LABELS,
  type WorkerId,
  type WorkerProviderError,
  type WorkerSpec,
} from '@hodei/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerName } from './container-name.js';
import { DockerWorkerProvider } from './docker-worker-provider.js';
import type { DockerWorkerProviderOptions } from './docker-provider-options.js';
import { startDockerTestRun, testWorkerImage, type DockerTestRun } from './testing/index.js';

let run: DockerTestRun;
const hostDir = mkdtempSync(join(tmpdir(), 'hodei-mount-'));

beforeAll(async () => {
  run = await startDockerTestRun();
});

afterAll(async () => {
  await run?.cleanup();
  rmSync(hostDir, { recursive: true, force: true });
});

const providerWith = (options: Partial<DockerWorkerProviderOptions> = {}): DockerWorkerProvider =>
  run.provider(options);

const spec = (overrides: Partial<WorkerSpec> = {}): WorkerSpec => run.jobSpec(overrides);

const containersOfRun = async (): Promise<string[]> =>
  (
    await run.connection.docker.listContainers({
      all: true,
      filters: { label: [`${OWNERSHIP_LABELS.providerId}=${run.providerId}`] },
    })
  ).map((c) => c.Names[0] ?? c.Id);

const inspectWorker = (id: string) =>
  run.connection.docker.getContainer(containerName(run.providerId, id)).inspect();

const problemPaths = (error: WorkerProviderError): string[] =>
  error.type === 'InvalidWorkerSpec' ? error.problems.map((p) => p.path).sort() : [];

describe('bad input', () => {
  it('rejects an invalid image reference, negative limits and reserved keys at once, creating nothing', async () => {
    const before = await containersOfRun();
    const result = await providerWith().createWorker(
      spec({
        image: 'Not A/Valid::Image',
        resources: { memoryMb: -1, cpus: -0.5, pidsLimit: -5 },
        labels: { 'hodei.policy': 'x', team: 'ok' },
        env: { HODEI_PROVIDER_ID: 'x', 'A=B': 'c' },
      }),
    );
    const error = result._unsafeUnwrapErr();
    expect(error.type).toBe('InvalidWorkerSpec');
    expect(problemPaths(error)).toEqual([
      'env.A=B',
      'env.HODEI_PROVIDER_ID',
      'image',
      'labels.hodei.policy',
      'resources.cpus',
      'resources.memoryMb',
      'resources.pidsLimit',
    ]);
    expect(await containersOfRun()).toEqual(before);
  });

  it('rejects a worker id that is not DNS-safe', async () => {
    const result = await providerWith().createWorker(
      spec({ workerId: 'Not_DNS.safe' as WorkerId }),
    );
    expect(problemPaths(result._unsafeUnwrapErr())).toEqual(['workerId']);
  });

  it('rejects an invalid policy with the fields named', async () => {
    const result = await providerWith().createWorker(
      spec({ policy: { ...dockerProfile, maxLifetime: -1 } }),
    );
    expect(problemPaths(result._unsafeUnwrapErr())).toContain('policy.maxLifetime');
  });

  it('rejects more CPUs than the engine has with the daemon’s reason', async () => {
    const s = spec({ resources: { cpus: 4096 } });
    const error = (await providerWith().createWorker(s))._unsafeUnwrapErr();
    expect(error.type).toBe('InvalidWorkerSpec');
    expect(error.message).toMatch(/CPU/);
    expect(await containersOfRun()).not.toContain(`/${containerName(run.providerId, s.workerId)}`);
  });

  it('without an init, removes a container whose command cannot start, so a half-way creation leaves nothing', async () => {
    const s = spec({ command: ['no-such-binary'] });
    const error = (await providerWith({ init: false }).createWorker(s))._unsafeUnwrapErr();
    expect(error.type).toBe('InvalidWorkerSpec');
    expect(problemPaths(error)).toEqual(['command']);
    expect(await containersOfRun()).not.toContain(`/${containerName(run.providerId, s.workerId)}`);
  });

  it('with the init, starts a command that cannot be found and lets it exit 127', async () => {
    const s = spec({ command: ['no-such-binary'] });
    const provider = providerWith();
    const handle = (await provider.createWorker(s))._unsafeUnwrap();
    const exit = await run.connection.docker.getContainer(handle.resourceId).wait();
    expect(exit.StatusCode).toBe(127);
  });

  it('answers an unknown worker: missing status, destroy and stop succeed, logs fail typed', async () => {
    const provider = providerWith();
    const ghost = {
      workerId: `${run.runId}-ghost` as WorkerId,
      resourceId: containerName(run.providerId, `${run.runId}-ghost`),
      providerId: run.providerId,
      createdAt: 0,
    };
    expect((await provider.getWorkerStatus(ghost))._unsafeUnwrap()).toEqual({ state: 'missing' });
    expect((await provider.destroyWorker(ghost, { gracePeriod: 0 })).isOk()).toBe(true);
    expect((await provider.stopWorker(ghost, { gracePeriod: 0 })).isOk()).toBe(true);
    expect((await provider.logs(ghost))._unsafeUnwrapErr().type).toBe('ProviderFailure');
  });

  it('refuses a provider configuration that mounts a host path it does not allow', () => {
    const result = DockerWorkerProvider.create({
      providerId: run.providerId,
      mounts: [{ hostPath: '/etc', containerPath: '/host-etc' }],
      allowedHostPaths: [hostDir],
    });
    const problems = result._unsafeUnwrapErr().problems;
    expect(problems.map((p) => p.path)).toEqual(['mounts.0.hostPath']);
    expect(problems[0]?.message).toContain('not under an allowed host path');
  });
});

describe('image pull policy', () => {
  // Images named after a registry on loopback where nothing listens: a pull fails at once and
  // nothing leaves this machine.
  const LOOPBACK_REGISTRY = '127.0.0.1:9';
  const missing = (): string => `${LOOPBACK_REGISTRY}/hodei/missing-${run.runId}:0.0.1`;
  const presentRepo = (): string => `${LOOPBACK_REGISTRY}/hodei/worker-${run.runId}`;

  beforeAll(async () => {
    // A present image whose registry is unreachable, for the Always policy.
    await run.connection.docker
      .getImage(testWorkerImage())
      .tag({ repo: presentRepo(), tag: 'present' });
  });

  afterAll(async () => {
    await run.connection.docker
      .getImage(`${presentRepo()}:present`)
      .remove()
      .catch(() => undefined);
  });

  it('Never: fails with ImagePullFailed naming an image that is not present', async () => {
    const image = missing();
    const error = (
      await providerWith({ pullPolicy: 'Never' }).createWorker(spec({ image }))
    )._unsafeUnwrapErr();
    expect(error).toMatchObject({ type: 'ImagePullFailed', image });
    expect(error.message).toContain(image);
  });

  it('Never: runs an image that is present', async () => {
    const result = await providerWith({ pullPolicy: 'Never' }).createWorker(spec());
    expect(result.isOk()).toBe(true);
  });

  it('IfNotPresent: tries to pull a missing image, and an unreachable registry is a retryable failure', async () => {
    const image = missing();
    const error = (
      await providerWith({ pullPolicy: 'IfNotPresent', pullTimeoutMs: 30_000 }).createWorker(
        spec({ image }),
      )
    )._unsafeUnwrapErr();
    expect(error).toMatchObject({
      type: 'ProviderFailure',
      operation: 'pullImage',
      retryable: true,
    });
    expect(error.message).toContain(image);
  });

  it('IfNotPresent: uses a present image without pulling', async () => {
    const result = await providerWith({ pullPolicy: 'IfNotPresent' }).createWorker(spec());
    expect(result.isOk()).toBe(true);
  });

  it('Always: pulls even a present image, and fails when its registry is unreachable', async () => {
    const image = `${presentRepo()}:present`;
    const s = spec({ image });
    const error = (
      await providerWith({ pullPolicy: 'Always', pullTimeoutMs: 30_000 }).createWorker(s)
    )._unsafeUnwrapErr();
    expect(error).toMatchObject({ type: 'ProviderFailure', operation: 'pullImage' });
    expect(await containersOfRun()).not.toContain(`/${containerName(run.providerId, s.workerId)}`);
  });
});

describe('the container Docker runs', () => {
  it('is named after the worker, carries the ownership labels and env, and has the limits and security floor', async () => {
    const s = spec({
      mode: 'agent',
      labels: { team: 'builds' },
      env: { GREETING: 'hi' },
      resources: { memoryMb: 64, cpus: 0.5, pidsLimit: 100 },
    });
    const handle = (await providerWith().createWorker(s))._unsafeUnwrap();
    const info = await inspectWorker(s.workerId);
    expect(info.Id).toBe(handle.resourceId);
    expect(info.Name).toBe(`/${containerName(run.providerId, s.workerId)}`);
    expect(info.Config.Labels).toMatchObject({
      team: 'builds',
      'hodei.managed': 'true',
      'hodei.provider-id': run.providerId,
      'hodei.worker-id': s.workerId,
      'hodei.mode': 'agent',
      'hodei.created-at': new Date(handle.createdAt).toISOString(),
      'hodei.policy': JSON.stringify(dockerProfile),
    });
    expect(info.Config.Env).toEqual(
      expect.arrayContaining([
        'GREETING=hi',
        `HODEI_WORKER_ID=${s.workerId}`,
        `HODEI_PROVIDER_ID=${run.providerId}`,
      ]),
    );
    expect(info.HostConfig).toMatchObject({
      Memory: 64 * 1024 * 1024,
      NanoCpus: 500_000_000,
      PidsLimit: 100,
      Privileged: false,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['NET_RAW'],
      ReadonlyRootfs: false,
    });
    expect(info.HostConfig.Binds ?? []).toEqual([]);
    expect(info.State.Running).toBe(true);
  });

  it('gets the default pids limit of 512 when the spec sets none', async () => {
    const s = spec();
    (await providerWith().createWorker(s))._unsafeUnwrap();
    expect((await inspectWorker(s.workerId)).HostConfig.PidsLimit).toBe(512);
  });

  it('applies the opt-ins: read-only root, user, extra capability drops, network and an allowed mount', async () => {
    const provider = providerWith({
      readOnlyRootFilesystem: true,
      user: '1000:1000',
      capDrop: ['CHOWN'],
      network: 'none',
      allowedHostPaths: [hostDir],
      mounts: [{ hostPath: hostDir, containerPath: '/data', readOnly: true }],
      defaultPidsLimit: 64,
    });
    const s = spec({
      command: ['sh', '-c', 'touch /x 2>/dev/null && echo writable || echo read-only; sleep 3600'],
    });
    (await provider.createWorker(s))._unsafeUnwrap();
    const info = await inspectWorker(s.workerId);
    expect(info.Config.User).toBe('1000:1000');
    expect(info.HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      CapDrop: ['NET_RAW', 'CHOWN'],
      NetworkMode: 'none',
      Binds: [`${hostDir}:/data:ro`],
      PidsLimit: 64,
      Privileged: false,
    });
  });
});
