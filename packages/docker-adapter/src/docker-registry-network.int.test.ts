import type { LogFields, Logger } from '@hodei/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startDockerTestRun,
  startLoopbackRegistry,
  TEST_RUN_LABEL,
  type DockerTestRun,
  type LoopbackRegistry,
} from './testing/index.js';

// Every registry here is a stand-in on loopback; the network is this run's own.
let run: DockerTestRun;

beforeAll(async () => {
  run = await startDockerTestRun();
});

afterAll(async () => {
  await run?.cleanup();
});

/** Every line logged, as text, to look for secrets in. */
function recordingLogger(): Logger & { readonly text: () => string } {
  const lines: string[] = [];
  const log = (message: string, fields?: LogFields) =>
    lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return {
    debug: log,
    info: log,
    warn: log,
    error: log,
    text: () => lines.join('\n'),
  };
}

describe('registry credentials', () => {
  let registry: LoopbackRegistry;
  let elsewhere: LoopbackRegistry;
  const password = 's3cret-password';

  beforeAll(async () => {
    registry = await startLoopbackRegistry('private');
    elsewhere = await startLoopbackRegistry('private');
  });

  afterAll(async () => {
    await registry?.close();
    await elsewhere?.close();
  });

  it('sends them with pulls from their registry only, and never logs or reports them', async () => {
    const logger = recordingLogger();
    const provider = run.provider({
      registryAuth: { serveraddress: registry.host, username: 'hodei', password },
      logger,
    });
    const ours = await provider.createWorker(
      run.jobSpec({ image: `${registry.host}/hodei/private-${run.runId}:1` }),
    );
    // The stand-in has no image: past the credentials, the pull fails as a refusal.
    expect(ours._unsafeUnwrapErr()).toMatchObject({ type: 'ImagePullFailed' });
    const basic = `Basic ${Buffer.from(`hodei:${password}`).toString('base64')}`;
    expect(registry.authorizations()).toContain(basic);
    expect(registry.authorizations().every((a) => a === basic)).toBe(true);

    const theirs = await provider.createWorker(
      run.jobSpec({ image: `${elsewhere.host}/hodei/private-${run.runId}:1` }),
    );
    expect(theirs.isErr()).toBe(true);
    expect(elsewhere.connections()).toBeGreaterThan(0);
    expect(elsewhere.authorizations()).toEqual([]);

    for (const text of [JSON.stringify(ours), JSON.stringify(theirs), logger.text()]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(Buffer.from(password).toString('base64'));
    }
  });
});

describe('network', () => {
  const network = () => `hodei-test-${run.runId}`;

  beforeAll(async () => {
    await run.connection.docker.createNetwork({
      Name: network(),
      Labels: { [TEST_RUN_LABEL]: run.runId },
    });
  });

  afterAll(async () => {
    await run.cleanup();
    await run.connection.docker
      .getNetwork(network())
      .remove()
      .catch(() => undefined);
  });

  it('attaches every worker to the network the provider names', async () => {
    const provider = run.provider({ network: network() });
    const handle = (await provider.createWorker(run.jobSpec()))._unsafeUnwrap();
    const info = await run.connection.docker.getContainer(handle.resourceId).inspect();
    expect(info.HostConfig.NetworkMode).toBe(network());
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([network()]);
    expect((await provider.destroyWorker(handle, { gracePeriod: 0 })).isOk()).toBe(true);
  });

  it('fails a create on a network the engine lacks, naming it, and leaves nothing', async () => {
    const missing = `hodei-missing-${run.runId}`;
    const provider = run.provider({ network: missing });
    const spec = run.jobSpec();
    const error = (await provider.createWorker(spec))._unsafeUnwrapErr();
    // Docker 20.10 refuses it at the start, later engines at the create.
    expect(error.type).toBe('ProviderFailure');
    expect(error.message).toContain(missing);
    expect((await provider.listManagedWorkers())._unsafeUnwrap()).toEqual([]);
  });
});
