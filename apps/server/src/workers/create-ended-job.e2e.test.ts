import type { DockerConnection } from '@hodei/docker-adapter';
import { requireTestDocker } from '@hodei/docker-adapter/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerEnvOfRun } from '../testing/docker-env.js';
import { removeContainersOf, uniqueProviderId } from '../testing/server-process.js';
import { eventually, startTestServer, type TestServer } from '../testing/test-server.js';

/**
 * Creates of jobs that end at once and are cleaned up at once (TTL 0) while the passes run, on
 * the real Docker Engine: each create answers 201 with the worker it made, and a repeat of it
 * answers with that worker without starting another container.
 */

const CREATES = 40;
const CONCURRENCY = 4;

/** Runs `task` for every item, `limit` at a time. */
async function inPool<T, R>(items: readonly T[], limit: number, task: (t: T) => Promise<R>) {
  const results: R[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

describe('creates of jobs that end at once', () => {
  let docker: DockerConnection['docker'];
  let t: TestServer;
  const dockerId = uniqueProviderId();
  const startedAt = Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    docker = (await requireTestDocker()).docker;
    t = await startTestServer({
      HODEI_PROVIDERS: `docker:${dockerId}`,
      HODEI_GC_INTERVAL_SECONDS: '1',
      HODEI_RECONCILE_INTERVAL_SECONDS: '1',
      ...dockerEnvOfRun(),
    });
  });

  afterAll(async () => {
    await t?.stop();
    if (docker !== undefined) await removeContainersOf(docker, [dockerId]);
  });

  /** The containers of our provider id the engine says it created since the test began. */
  const containersCreated = async (): Promise<number> => {
    const stream = (await docker.getEvents({
      since: startedAt,
      until: Math.ceil(Date.now() / 1000) + 1,
      filters: {
        type: ['container'],
        event: ['create'],
        label: [`hodei.provider-id=${dockerId}`],
      },
    })) as unknown as AsyncIterable<Buffer>;
    let text = '';
    for await (const chunk of stream) text += chunk.toString();
    return text.split('\n').filter((l) => l.trim() !== '').length;
  };

  it('answers each create 201 with its worker, and a repeat starts no second container', async () => {
    const ids = Array.from({ length: CREATES }, (_, i) => `ended-job-${i}`);
    const body = (id: string) => ({
      id,
      providerId: dockerId,
      mode: 'job',
      command: ['true'],
      policy: { ttlAfterCompletionSeconds: 0 },
    });
    const created = await inPool(ids, CONCURRENCY, (id) =>
      t.api('POST', '/v1/workers', { body: body(id) }),
    );
    for (const [i, r] of created.entries()) {
      expect({ id: ids[i], status: r.status }).toEqual({ id: ids[i], status: 201 });
      expect(r.body).toMatchObject({ id: ids[i], providerId: dockerId, mode: 'job' });
      expect(typeof r.body.resourceId).toBe('string');
    }
    expect(await eventually(containersCreated, (n) => n >= CREATES)).toBe(CREATES);

    const repeats = await inPool(ids, CONCURRENCY, (id) =>
      t.api('POST', '/v1/workers', { body: body(id) }),
    );
    for (const [i, r] of repeats.entries()) {
      expect({ id: ids[i], status: r.status }).toEqual({ id: ids[i], status: 200 });
      expect(r.body.resourceId).toBe(created[i]!.body.resourceId);
    }
    // The engine reports creates in order: once a last, new one is seen, so is any before it.
    const last = await t.api('POST', '/v1/workers', { body: body('ended-job-last') });
    expect(last.status).toBe(201);
    expect(await eventually(containersCreated, (n) => n >= CREATES + 1)).toBe(CREATES + 1);
  });
});
