import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerSpec } from '@hodei/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerName } from './container-name.js';
import { connectDocker, DEFAULT_DOCKER_SOCKET } from './docker-connection.js';
import type { DockerWorkerProviderOptions } from './docker-provider-options.js';
import { DockerWorkerProvider } from './docker-worker-provider.js';
import { startDockerTestRun, type DockerTestRun } from './testing/index.js';

let run: DockerTestRun;

beforeAll(async () => {
  run = await startDockerTestRun();
});

afterAll(async () => {
  await run?.cleanup();
});

const providerWith = (options: Partial<DockerWorkerProviderOptions> = {}): DockerWorkerProvider =>
  run.provider(options);

const spec = (overrides: Partial<WorkerSpec> = {}): WorkerSpec => run.jobSpec(overrides);

const inspectWorker = (id: string) =>
  run.connection.docker.getContainer(containerName(run.providerId, id)).inspect();

describe('the defaults of a worker container', () => {
  it('limits memory, CPUs and pids, rotates its json-file log and runs an init', async () => {
    const s = spec();
    (await providerWith().createWorker(s))._unsafeUnwrap();
    const info = await inspectWorker(s.workerId);
    expect(info.HostConfig).toMatchObject({
      Memory: 1024 * 1024 * 1024,
      NanoCpus: 1_000_000_000,
      PidsLimit: 512,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      Init: true,
      ReadonlyRootfs: false,
    });
    expect(info.Config.User).toBe('');
  });

  it('takes the operator’s defaults, 0 lifting a limit, and a spec’s own limits over them', async () => {
    const provider = providerWith({
      defaultMemoryMb: 0,
      defaultCpus: 0.5,
      logMaxSize: '1m',
      logMaxFile: 2,
      init: false,
    });
    const plain = spec();
    const sized = spec({ resources: { memoryMb: 64, cpus: 0.25 } });
    (await provider.createWorker(plain))._unsafeUnwrap();
    (await provider.createWorker(sized))._unsafeUnwrap();
    expect((await inspectWorker(plain.workerId)).HostConfig).toMatchObject({
      Memory: 0,
      NanoCpus: 500_000_000,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } },
      Init: false,
    });
    expect((await inspectWorker(sized.workerId)).HostConfig).toMatchObject({
      Memory: 64 * 1024 * 1024,
      NanoCpus: 250_000_000,
    });
  });

  it('with a read-only root, still gives the command a small writable /tmp', async () => {
    const provider = providerWith({ readOnlyRootFilesystem: true, user: '65534:65534' });
    const s = spec({
      command: ['sh', '-c', 'touch /x 2>/dev/null || echo root-ro; touch /tmp/y && echo tmp-rw'],
    });
    const handle = (await provider.createWorker(s))._unsafeUnwrap();
    await run.connection.docker.getContainer(handle.resourceId).wait();
    const lines: string[] = [];
    for await (const l of (await provider.logs(handle))._unsafeUnwrap()) lines.push(l.line);
    expect(lines).toEqual(['root-ro', 'tmp-rw']);
    expect((await inspectWorker(s.workerId)).Config.User).toBe('65534:65534');
  });

  it('ends a shell command at SIGTERM, because the init forwards it', async () => {
    const provider = providerWith();
    const handle = (await provider.createWorker(spec()))._unsafeUnwrap();
    // A shell as PID 1 would ignore SIGTERM and be killed at the end of the grace period (137).
    expect((await provider.stopWorker(handle, { gracePeriod: 60_000 })).isOk()).toBe(true);
    const info = await run.connection.docker.getContainer(handle.resourceId).inspect();
    expect(info.State.ExitCode).toBe(143);
  });

  it('refuses defaults Docker would not accept, naming each', () => {
    const made = DockerWorkerProvider.create({
      providerId: run.providerId,
      defaultMemoryMb: 2,
      defaultCpus: -1,
      logMaxSize: '10 MB',
      logMaxFile: 0,
      user: 'root; rm',
    });
    expect(made._unsafeUnwrapErr().problems.map((p) => p.path)).toEqual([
      'logMaxFile',
      'defaultMemoryMb',
      'defaultCpus',
      'logMaxSize',
      'user',
    ]);
  });
});

describe('the create request', () => {
  let dir: string;
  let proxy: Server;
  const sent: string[] = [];

  beforeAll(async () => {
    // A recording proxy in front of the engine's socket: what any socket proxy would log.
    dir = mkdtempSync(join(tmpdir(), 'hodei-sock-'));
    proxy = createServer((client) => {
      const upstream = connect(DEFAULT_DOCKER_SOCKET);
      client.on('data', (chunk: Buffer) => sent.push(chunk.toString('latin1')));
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(join(dir, 'docker.sock'), resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends only the name in the request line and the spec, env included, in the body', async () => {
    const provider = providerWith({
      connection: connectDocker(`unix://${join(dir, 'docker.sock')}`),
    });
    const secret = `s3cret-${run.runId}`;
    const s = spec({ env: { API_KEY: secret } });
    (await provider.createWorker(s))._unsafeUnwrap();
    const requestLines = sent
      .join('')
      .split('\r\n')
      .filter((line) => /^[A-Z]+ \/\S* HTTP\/1\.1$/.test(line));
    const creates = requestLines.filter((line) => line.includes('/containers/create'));
    expect(creates).toEqual([
      expect.stringMatching(
        new RegExp(
          `^POST (/v[0-9.]+)?/containers/create\\?name=${containerName(run.providerId, s.workerId).replaceAll('.', '\\.')} HTTP/1\\.1$`,
        ),
      ),
    ]);
    expect(requestLines.join('\n')).not.toContain(secret);
    expect((await inspectWorker(s.workerId)).Config.Env).toContain(`API_KEY=${secret}`);
  });
});
