import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProviderWatchEvent } from '@hodei/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDockerTestRun, type DockerTestRun } from './testing/index.js';

let run: DockerTestRun;

beforeAll(async () => {
  run = await startDockerTestRun();
});

afterAll(async () => {
  await run?.cleanup();
});

describe('DockerWorkerProvider.close', () => {
  it('ends its watches and followed logs, and refuses calls afterwards', async () => {
    const provider = run.provider();
    const events: ProviderWatchEvent[] = [];
    provider.watch((e) => events.push(e));
    const handle = (
      await provider.createWorker(
        run.jobSpec({ command: ['sh', '-c', 'echo up; exec sleep 3600'] }),
      )
    )._unsafeUnwrap();
    const lines = (await provider.logs(handle, { follow: true }))._unsafeUnwrap();
    const followed = lines[Symbol.asyncIterator]();
    expect((await followed.next()).value).toEqual({ stream: 'stdout', line: 'up' });

    await provider.close();
    // The followed stream ended with the provider; the container runs on.
    expect(await followed.next()).toMatchObject({ done: true });
    const status = await run.connection.docker.getContainer(handle.resourceId).inspect();
    expect(status.State.Running).toBe(true);
    expect((await provider.createWorker(run.jobSpec()))._unsafeUnwrapErr()).toMatchObject({
      type: 'ProviderFailure',
      message: `Docker provider ${run.providerId} is closed`,
      retryable: false,
    });
    expect((await provider.listManagedWorkers()).isErr()).toBe(true);
    provider.watch(() => undefined).close();
    await provider[Symbol.asyncDispose](); // a second close is a no-op
  });

  it('lets a program that watched and followed logs exit on its own once closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hodei-close-'));
    try {
      const index = fileURLToPath(new URL('./index.ts', import.meta.url));
      const script = join(dir, 'program.mts');
      writeFileSync(
        script,
        `import { connectDocker, DockerWorkerProvider } from ${JSON.stringify(index)};
const provider = DockerWorkerProvider.create({
  providerId: ${JSON.stringify(run.providerIdFor('exit'))},
  connection: connectDocker(process.env.DOCKER_HOST),
})._unsafeUnwrap();
provider.watch(() => undefined);
const spec = ${JSON.stringify(run.jobSpec({ command: ['sh', '-c', 'echo up; exec sleep 3600'] }))};
const handle = (await provider.createWorker(spec))._unsafeUnwrap();
const lines = (await provider.logs(handle, { follow: true }))._unsafeUnwrap();
for await (const line of lines) {
  if (line.line === 'up') break;
}
void (await provider.logs(handle, { follow: true }))._unsafeUnwrap()[Symbol.asyncIterator]().next();
await provider.close();
console.log('closed');
`,
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      // Without close() the watch and the followed log hold the process: the test times out.
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(output.trim()).toBe('closed');
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
