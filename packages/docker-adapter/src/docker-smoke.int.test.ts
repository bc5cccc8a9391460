import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerConnection } from './docker-connection.js';
import { requireTestDocker, testWorkerImage } from './testing/index.js';

const runLabel = 'hodei.test-run';
const runId = randomUUID();

describe('dockerode against the real engine', () => {
  let connection: DockerConnection;

  beforeAll(async () => {
    connection = await requireTestDocker();
  });

  afterAll(async () => {
    // Remove only what this run labelled.
    const leftovers = await connection.docker.listContainers({
      all: true,
      filters: { label: [`${runLabel}=${runId}`] },
    });
    await Promise.all(
      leftovers.map((c) => connection.docker.getContainer(c.Id).remove({ force: true })),
    );
  });

  it('starts a container from the locally built worker image, reads its output and removes it', async () => {
    const container = await connection.docker.createContainer({
      Image: testWorkerImage(),
      Cmd: ['echo', 'hello from the smoke test'],
      Labels: { [runLabel]: runId },
    });
    await container.start();
    const exit = (await container.wait()) as { StatusCode: number };
    expect(exit.StatusCode).toBe(0);

    const logs = await container.logs({ stdout: true, stderr: true });
    // Non-TTY logs are multiplexed: an 8-byte header precedes each frame.
    expect(logs.subarray(8).toString('utf8')).toBe('hello from the smoke test\n');

    await container.remove({ force: true });
    const left = await connection.docker.listContainers({
      all: true,
      filters: { label: [`${runLabel}=${runId}`] },
    });
    expect(left).toEqual([]);
  });
});
