import { OWNERSHIP_LABELS, type WorkerSpec } from '@hodei/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerWorkerProviderOptions } from './docker-provider-options.js';
import { DockerWorkerProvider } from './docker-worker-provider.js';
import {
  startDockerTestRun,
  startLoopbackRegistry,
  testWorkerImage,
  type DockerTestRun,
  type LoopbackRegistry,
} from './testing/index.js';

// Every registry here is on loopback: a closed port, or a stand-in this test runs.
let run: DockerTestRun;

beforeAll(async () => {
  run = await startDockerTestRun();
});

afterAll(async () => {
  await run?.cleanup();
});

const providerWith = (options: Partial<DockerWorkerProviderOptions> = {}): DockerWorkerProvider =>
  run.provider(options);

const spec = (image: string): WorkerSpec => run.jobSpec({ image });

const containersOfRun = async (): Promise<number> =>
  (
    await run.connection.docker.listContainers({
      all: true,
      filters: { label: [`${OWNERSHIP_LABELS.providerId}=${run.providerId}`] },
    })
  ).length;

describe('registry outages', () => {
  it('reports a registry that refuses connections as a retryable failure, without the daemon’s resolver text', async () => {
    const image = `127.0.0.1:9/hodei/missing-${run.runId}:1`;
    const error = (await providerWith().createWorker(spec(image)))._unsafeUnwrapErr();
    expect(error).toMatchObject({
      type: 'ProviderFailure',
      operation: 'pullImage',
      retryable: true,
    });
    expect(error.message).toBe(
      `could not pull image ${image}: registry 127.0.0.1:9 cannot be reached; try again later`,
    );
  });

  describe('a registry that never answers', () => {
    let silent: LoopbackRegistry;
    beforeAll(async () => {
      silent = await startLoopbackRegistry('silent');
    });
    afterAll(async () => {
      await silent.close();
    });

    it('gives up the pull at the pull timeout, as a timeout, and creates nothing', async () => {
      const before = await containersOfRun();
      const image = `${silent.host}/hodei/held-${run.runId}:1`;
      const error = (
        await providerWith({ pullTimeoutMs: 1_500 }).createWorker(spec(image))
      )._unsafeUnwrapErr();
      expect(error).toMatchObject({
        type: 'ProviderTimeout',
        operation: 'pullImage',
        timeoutMs: 1_500,
        retryable: true,
      });
      expect(silent.connections()).toBeGreaterThan(0);
      expect(await containersOfRun()).toBe(before);
    });
  });

  describe('a registry that answers without the image', () => {
    let refusing: LoopbackRegistry;
    beforeAll(async () => {
      refusing = await startLoopbackRegistry('refusing');
    });
    afterAll(async () => {
      await refusing.close();
    });

    it('is ImagePullFailed, a bad reference rather than an outage', async () => {
      const image = `${refusing.host}/hodei/absent-${run.runId}:1`;
      const error = (await providerWith().createWorker(spec(image)))._unsafeUnwrapErr();
      expect(error).toMatchObject({ type: 'ImagePullFailed', image });
      expect(error.message).toMatch(/manifest unknown/);
    });
  });
});

describe('allowed images', () => {
  let refusing: LoopbackRegistry;
  const presentRepo = (): string => `127.0.0.1:9/hodei/present-${run.runId}`;

  beforeAll(async () => {
    refusing = await startLoopbackRegistry('refusing');
    await run.connection.docker.getImage(testWorkerImage()).tag({ repo: presentRepo(), tag: '1' });
  });

  afterAll(async () => {
    await refusing.close();
    await run.connection.docker
      .getImage(`${presentRepo()}:1`)
      .remove()
      .catch(() => undefined);
  });

  it('refuses to pull an image no pattern allows, naming the rule, and dials nothing', async () => {
    const image = `${refusing.host}/hodei/other-${run.runId}:1`;
    const provider = providerWith({ allowedImages: ['docker.io/**', 'ghcr.io/acme/*'] });
    const error = (await provider.createWorker(spec(image)))._unsafeUnwrapErr();
    expect(error).toMatchObject({
      type: 'InvalidWorkerSpec',
      problems: [
        {
          path: 'image',
          message: `${image} is not on the engine and may not be pulled: it matches none of the allowed images (docker.io/**, ghcr.io/acme/*)`,
        },
      ],
    });
    expect(refusing.connections()).toBe(0);
  });

  it('pulls an image a pattern allows', async () => {
    const image = `${refusing.host}/hodei/allowed-${run.runId}:1`;
    const provider = providerWith({ allowedImages: [`${refusing.host}/hodei/**`] });
    const error = (await provider.createWorker(spec(image)))._unsafeUnwrapErr();
    expect(error.type).toBe('ImagePullFailed');
    expect(refusing.connections()).toBeGreaterThan(0);
  });

  it('runs an image already on the engine whatever the patterns say', async () => {
    const provider = providerWith({ allowedImages: [] });
    expect((await provider.createWorker(spec(`${presentRepo()}:1`))).isOk()).toBe(true);
  });

  it('refuses a pattern that is not an image pattern when the provider is made', () => {
    const made = DockerWorkerProvider.create({
      providerId: run.providerId,
      allowedImages: ['ghcr.io/$(x)'],
    });
    expect(made._unsafeUnwrapErr().problems).toEqual([
      {
        path: 'allowedImages.0',
        message: '"ghcr.io/$(x)" is not an image pattern (a reference with * and ** globs)',
      },
    ]);
  });
});
