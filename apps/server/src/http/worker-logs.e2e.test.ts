import type { DockerConnection } from '@hodei/docker-adapter';
import { requireTestDocker } from '@hodei/docker-adapter/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeContainersOf, uniqueProviderId } from '../testing/server-process.js';
import {
  eventually,
  startTestServer,
  TEST_TOKEN,
  type TestServer,
} from '../testing/test-server.js';
import { LOG_TRUNCATED_MARKER } from '../workers/log-response.js';
import { dockerEnvOfRun } from '../testing/docker-env.js';

/**
 * `GET /v1/workers/{id}/logs` on the real Docker Engine (and the Kubernetes stub): the default
 * tail, `tail=all`, the byte cap of one response, and the defaults of the containers behind.
 */

const MAX_BYTES = 8192;
const auth = { authorization: `Bearer ${TEST_TOKEN}` };

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');
const numbers = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

describe('worker logs over HTTP', () => {
  let docker: DockerConnection['docker'];
  let t: TestServer;
  const dockerId = uniqueProviderId();

  beforeAll(async () => {
    docker = (await requireTestDocker()).docker;
    t = await startTestServer({
      HODEI_PROVIDERS: `docker:${dockerId},k8s-stub`,
      HODEI_LOG_RESPONSE_MAX_BYTES: String(MAX_BYTES),
      ...dockerEnvOfRun(),
    });
  });

  afterAll(async () => {
    await t?.stop();
    if (docker !== undefined) await removeContainersOf(docker, [dockerId]);
  });

  const logs = async (id: string, query = ''): Promise<{ status: number; text: string }> => {
    const response = await fetch(`${t.url}/v1/workers/${id}/logs${query}`, { headers: auth });
    return { status: response.status, text: await response.text() };
  };

  const finishedDockerJob = async (id: string, script: string): Promise<void> => {
    const created = await t.api('POST', '/v1/workers', {
      body: { id, providerId: dockerId, command: ['sh', '-c', script] },
    });
    expect(created.status).toBe(201);
    await eventually(
      () => t.api('GET', `/v1/workers/${id}`),
      (r) => r.body.state === 'terminated',
    );
  };

  it('returns the last 1,000 lines by default, every line with tail=all, N with tail=N', async () => {
    const id = `${dockerId}-tail`;
    await finishedDockerJob(id, 'seq 1 1500');
    expect(lines((await logs(id)).text)).toEqual(numbers(501, 1500));
    expect(lines((await logs(id, '?tail=3')).text)).toEqual(numbers(1498, 1500));
    expect(lines((await logs(id, '?tail=all')).text)).toEqual(numbers(1, 1500));
  });

  it('refuses a tail that is neither a number nor all, naming it', async () => {
    const response = await t.api('GET', `/v1/workers/${dockerId}-tail/logs?tail=everything`);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('ValidationFailed');
    expect(JSON.stringify(response.body)).toContain('tail');
  });

  it('cuts a response at the byte cap and ends it with the truncation line', async () => {
    const id = `${dockerId}-big`;
    await finishedDockerJob(id, 'seq 1 20000');
    const { status, text } = await logs(id, '?tail=all');
    expect(status).toBe(200);
    const all = lines(text);
    const last = all.pop() ?? '';
    expect(
      last.startsWith(`${LOG_TRUNCATED_MARKER} this response stops at ${MAX_BYTES} bytes`),
    ).toBe(true);
    expect(all).toEqual(numbers(1, all.length));
    expect(Buffer.byteLength(all.map((l) => `${l}\n`).join(''))).toBeLessThanOrEqual(MAX_BYTES);
    expect(all.length).toBeGreaterThan(1000);
  });

  it('ends a followed stream at the byte cap too, while the worker goes on', async () => {
    const id = `${dockerId}-follow`;
    const created = await t.api('POST', '/v1/workers', {
      body: {
        id,
        providerId: dockerId,
        command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo line $i; sleep 0.001; done'],
      },
    });
    expect(created.status).toBe(201);
    const { text } = await logs(id, '?follow=true&tail=0');
    expect(lines(text).at(-1)).toMatch(new RegExp(`^\\${LOG_TRUNCATED_MARKER}`));
    expect((await t.api('GET', `/v1/workers/${id}`)).body.state).toBe('busy');
  });

  it('creates a default worker with the memory, CPU and pids limits, log rotation and an init', async () => {
    const id = `${dockerId}-defaults`;
    const created = await t.api('POST', '/v1/workers', {
      body: { id, providerId: dockerId, command: ['sh', '-c', 'sleep 600'] },
    });
    expect(created.status).toBe(201);
    const info = await docker
      .getContainer((created.body as { resourceId: string }).resourceId)
      .inspect();
    expect(info.HostConfig).toMatchObject({
      Memory: 1024 * 1024 * 1024,
      NanoCpus: 1_000_000_000,
      PidsLimit: 512,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      Init: true,
    });
  });

  it('refuses to pull an image outside the allowed registries with 400 naming the rule', async () => {
    const response = await t.api('POST', '/v1/workers', {
      body: { id: `${dockerId}-foreign`, providerId: dockerId, image: '127.0.0.1:9/x/y:1' },
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: 'InvalidWorkerSpec',
      problems: [
        {
          path: 'image',
          message: expect.stringContaining('matches none of the allowed images (docker.io/**)'),
        },
      ],
    });
  });
});

describe('the Kubernetes stub’s logs over HTTP', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ HODEI_LOG_DEFAULT_TAIL: '5' });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('come through the same route, default tail and tail=all', async () => {
    const script = numbers(1, 12)
      .map((n) => `echo ${n}`)
      .join('; ');
    const created = await t.api('POST', '/v1/workers', {
      body: { id: 'stub-logs', command: ['sh', '-c', `${script}; sleep 600`] },
    });
    expect(created.status).toBe(201);
    const read = (query: string) =>
      fetch(`${t.url}/v1/workers/stub-logs/logs${query}`, { headers: auth }).then((r) => r.text());
    const last = await eventually(
      () => read(''),
      (text) => lines(text).length > 0,
    );
    expect(lines(last)).toEqual(numbers(8, 12));
    expect(lines(await read('?tail=all'))).toEqual(numbers(1, 12));
    expect(lines(await read('?tail=2'))).toEqual(numbers(11, 12));
  });
});

describe('a registry outage over HTTP', () => {
  let docker: DockerConnection['docker'];
  let t: TestServer;
  const dockerId = uniqueProviderId();

  beforeAll(async () => {
    docker = (await requireTestDocker()).docker;
    t = await startTestServer({
      HODEI_PROVIDERS: `docker:${dockerId}`,
      // Allowed, and on a loopback port where nothing listens.
      HODEI_ALLOWED_IMAGES: '127.0.0.1:9/**',
      ...(process.env['DOCKER_HOST'] === undefined
        ? {}
        : { DOCKER_HOST: process.env['DOCKER_HOST'] }),
    });
  });

  afterAll(async () => {
    await t?.stop();
    if (docker !== undefined) await removeContainersOf(docker, [dockerId]);
  });

  it('is 503, saying the registry cannot be reached and nothing of the daemon’s resolver', async () => {
    const response = await t.api('POST', '/v1/workers', {
      body: { id: `${dockerId}-outage`, image: '127.0.0.1:9/x/y:1' },
    });
    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      error: 'ProviderFailure',
      message:
        'could not pull image 127.0.0.1:9/x/y:1: registry 127.0.0.1:9 cannot be reached; try again later',
    });
  });
});
