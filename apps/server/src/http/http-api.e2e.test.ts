import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerConnection } from '@hodei/docker-adapter';
import { requireTestDocker } from '@hodei/docker-adapter/testing';
import {
  createTestDatabase,
  removeContainersOf,
  spawnServer,
  tempDataDir,
  uniqueProviderId,
  type ServerProcess,
  type TestDatabase,
} from '../testing/server-process.js';
import {
  eventually,
  startTestServer,
  TEST_TOKEN,
  type TestServer,
} from '../testing/test-server.js';

/**
 * The HTTP API over real HTTP, the server started as a process (`hodei serve`) on the real
 * Docker Engine and a PostgreSQL database of this file's own.
 */

/** An agent's command that ends at once on SIGTERM, so destroys do not wait out the grace. */
const AGENT = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];

interface SseEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/** Opens an SSE stream and collects events until `until` says enough or the time is up. */
async function collectSse(
  url: string,
  headers: Record<string, string>,
  until: (events: SseEvent[]) => boolean,
  timeoutMs = 20_000,
): Promise<SseEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: SseEvent[] = [];
  try {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${TEST_TOKEN}`, ...headers },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const i = line.indexOf(':');
          if (i === -1) continue;
          fields[line.slice(0, i)] = line.slice(i + 1).trimStart();
        }
        if (fields['data'] !== undefined)
          events.push({
            id: fields['id'],
            // Lifecycle events are unnamed (onmessage); their type is the CloudEvent's.
            event:
              fields['event'] ??
              (JSON.parse(fields['data']) as { type: string }).type.replace(
                'io.hodei.lifecycle.',
                '',
              ),
            data: fields['data'],
          });
      }
      if (until(events)) break;
    }
  } catch (cause) {
    if ((cause as Error).name !== 'AbortError') throw cause;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

describe('the HTTP API', () => {
  let t: ServerProcess;
  let db: TestDatabase;
  let docker: DockerConnection['docker'];
  const providerId = uniqueProviderId();

  beforeAll(async () => {
    docker = (await requireTestDocker()).docker;
    db = await createTestDatabase();
    t = await spawnServer({
      HODEI_PROVIDERS: `docker:${providerId}`,
      DATABASE_URL: db.url,
      HODEI_DATA_DIR: await tempDataDir(),
      HODEI_MAX_WORKERS: '5',
    });
  });

  afterAll(async () => {
    await t?.stop();
    await removeContainersOf(docker, [providerId]);
    await db?.drop();
  });

  it('answers 401 without a token or with a wrong one, and serves health without one', async () => {
    expect((await t.api('GET', '/v1/workers', { token: null })).status).toBe(401);
    const wrong = await t.api('GET', '/v1/workers', { token: 'not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({
      error: 'Unauthorized',
      message: 'a valid bearer token is required',
    });
    // Percent-escapes reach the same routes; they need the token all the same.
    for (const path of ['/%761/workers', '/v%31/gc', '/%76%31/workers/x']) {
      expect((await t.api('GET', path, { token: null })).status).toBe(401);
      expect((await t.api('POST', path, { token: null })).status).toBe(401);
    }
    expect((await t.api('GET', '/no/such/route', { token: null })).status).toBe(401);
    expect((await t.api('GET', '/healthz', { token: null })).status).toBe(200);
    const ready = await t.api('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.checks[`provider:${providerId}`].ok).toBe(true);
    expect(ready.body.checks['database'].ok).toBe(true);
  });

  it('publishes an OpenAPI document of every route', async () => {
    const doc = await t.api('GET', '/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/workers',
        '/v1/workers/{id}',
        '/v1/workers/{id}/ready',
        '/v1/workers/{id}/busy',
        '/v1/workers/{id}/logs',
        '/v1/workers/{id}/events',
        '/v1/gc',
        '/v1/events',
      ]),
    );
  });

  it('creates a worker, repeats idempotently, and refuses the id with another spec', async () => {
    const body = {
      id: 'idem-1',
      mode: 'agent',
      command: AGENT,
      labels: { team: 'ci' },
    };
    const first = await t.api('POST', '/v1/workers', {
      body,
      headers: { 'x-correlation-id': 'corr-idem' },
    });
    expect(first.status).toBe(201);
    expect(first.headers.get('x-correlation-id')).toBe('corr-idem');
    expect(first.body).toMatchObject({
      id: 'idem-1',
      providerId,
      mode: 'agent',
      image: 'hodei/worker:0.1.0',
      exitCode: null,
    });
    expect(first.body.policy).toEqual({
      maxLifetimeSeconds: 1800,
      ttlAfterCompletionSeconds: 120,
      idleTimeoutSeconds: 300,
      gracefulTerminationTimeoutSeconds: 30,
      startupTimeoutSeconds: 120,
      expiryWarningSeconds: 60,
    });
    const again = await t.api('POST', '/v1/workers', { body });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe('idem-1');
    const other = await t.api('POST', '/v1/workers', {
      body: { ...body, command: ['sleep', '5'] },
    });
    expect(other.status).toBe(409);
    expect(other.body.error).toBe('WorkerIdConflict');
    expect((await t.api('GET', '/v1/workers/idem-1')).body.id).toBe('idem-1');
    await t.api('DELETE', '/v1/workers/idem-1?wait=true');
  });

  it('answers concurrent creates of one id with one 201 and repeats, and one container', async () => {
    const body = { id: 'race-1', mode: 'agent', command: AGENT };
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => t.api('POST', '/v1/workers', { body })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 201]);
    const containers = await docker.listContainers({
      all: true,
      filters: { label: ['hodei.worker-id=race-1'] },
    });
    expect(containers).toHaveLength(1);
    expect((await t.api('DELETE', '/v1/workers/race-1?wait=true')).status).toBe(200);
  });

  it('answers 400 listing every problem of a bad body', async () => {
    const bad = await t.api('POST', '/v1/workers', {
      body: {
        mode: 'daemon',
        image: 'busybox; rm -rf /',
        command: 'echo hi',
        env: { HODEI_WORKER_ID: 'x', 'BAD NAME': 'y', OK: 3 },
        labels: { 'hodei.managed': 'false' },
        policy: {
          maxLifetimeSeconds: -5,
          idleTimeoutSeconds: 99_999_999,
          ttlAfterCompletionSeconds: 'soon',
          orphanAction: 'remove',
        },
        resources: { memoryMb: 1.5, cpus: 0 },
        colour: 'blue',
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('ValidationFailed');
    const paths = (bad.body.problems as { path: string }[]).map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'body.mode',
        'body.image',
        'body.command',
        'body.env.HODEI_WORKER_ID',
        'body.env.BAD NAME',
        'body.env.OK',
        'body.labels.hodei.managed',
        'body.policy.maxLifetimeSeconds',
        'body.policy.idleTimeoutSeconds',
        'body.policy.ttlAfterCompletionSeconds',
        'body.policy.orphanAction',
        'body.resources.memoryMb',
        'body.resources.cpus',
        'body.colour',
      ]),
    );
    const reserved = (bad.body.problems as { path: string; message: string }[]).find(
      (p) => p.path === 'body.labels.hodei.managed',
    );
    expect(reserved?.message).toContain('reserved');
  });

  it.each([
    ['an image with spaces', { image: 'my image' }, 'body.image'],
    ['an image with a shell metacharacter', { image: 'busybox$(id)' }, 'body.image'],
    ['a worker id that is not DNS-safe', { id: 'Not_DNS' }, 'body.id'],
    [
      'an idle timeout above the max lifetime',
      { policy: { maxLifetimeSeconds: 60, idleTimeoutSeconds: 120 } },
      'body.policy.idleTimeoutSeconds',
    ],
    ['an unknown provider', { providerId: 'nope' }, 'providerId'],
  ])('answers 400 for %s', async (_what, body, path) => {
    const r = await t.api('POST', '/v1/workers', { body });
    expect(r.status).toBe(400);
    expect((r.body.problems as { path: string }[]).map((p) => p.path)).toContain(path);
  });

  it('answers 400 for a body that is not JSON and 413 for one too large', async () => {
    const notJson = await t.api('POST', '/v1/workers', {
      raw: '{"id":',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toBe('InvalidJson');
    const huge = await t.api('POST', '/v1/workers', { body: { command: ['x'.repeat(70_000)] } });
    expect(huge.status).toBe(413);
    expect(huge.body.error).toBe('PayloadTooLarge');
  });

  it('answers 404 for an unknown worker and an unknown route', async () => {
    expect((await t.api('GET', '/v1/workers/ghost')).body).toEqual({
      error: 'WorkerNotFound',
      message: 'no worker ghost',
    });
    expect((await t.api('GET', '/v1/workers/ghost')).status).toBe(404);
    expect((await t.api('DELETE', '/v1/workers/ghost')).status).toBe(404);
    expect((await t.api('GET', '/v1/nowhere')).status).toBe(404);
  });

  it('drives an agent with /busy and /ready: repeats are idempotent, an invalid move is 409', async () => {
    const created = await t.api('POST', '/v1/workers', {
      body: { id: 'agent-1', mode: 'agent', command: AGENT },
    });
    expect(created.status).toBe(201);
    const ready = await eventually(
      () => t.api('GET', '/v1/workers/agent-1'),
      (r) => r.body.state === 'ready',
    );
    expect(ready.body.state).toBe('ready');
    expect((await t.api('POST', '/v1/workers/agent-1/busy')).body.state).toBe('busy');
    expect((await t.api('POST', '/v1/workers/agent-1/busy')).status).toBe(200);
    expect((await t.api('POST', '/v1/workers/agent-1/ready')).body.state).toBe('ready');
    const deleted = await t.api('DELETE', '/v1/workers/agent-1');
    expect(deleted.status).toBe(202);
    expect(deleted.body.state).toBe('terminating');
    const late = await t.api('POST', '/v1/workers/agent-1/busy');
    expect([404, 409]).toContain(late.status);
    if (late.status === 409) expect(late.body.error).toBe('InvalidTransition');
    await eventually(
      () => t.api('GET', '/v1/workers/agent-1'),
      (r) => r.status === 404,
    );
    const history = await t.api('GET', '/v1/workers/agent-1/events');
    expect(history.status).toBe(200);
    expect((history.body.events as { type: string }[]).map((e) => e.type)).toEqual([
      'io.hodei.lifecycle.WorkerEphemeralCreated',
      'io.hodei.lifecycle.WorkerEphemeralReady',
      'io.hodei.lifecycle.WorkerEphemeralBusy',
      'io.hodei.lifecycle.WorkerEphemeralReady',
      'io.hodei.lifecycle.WorkerEphemeralTerminating',
      'io.hodei.lifecycle.WorkerEphemeralTerminated',
      'io.hodei.lifecycle.WorkerEphemeralCleanedUp',
    ]);
  });

  it('takes a job worker through ready, busy and terminated by itself', async () => {
    await t.api('POST', '/v1/workers', {
      body: {
        id: 'job-1',
        command: ['sh', '-c', 'echo done; sleep 1; exit 0'],
        policy: { ttlAfterCompletionSeconds: 600 },
      },
    });
    // A job's ready and busy come from its container, not from callers.
    const busy = await t.api('POST', '/v1/workers/job-1/busy');
    expect(busy.status).toBe(409);
    expect(busy.body.error).toBe('NotAnAgent');
    const done = await eventually(
      () => t.api('GET', '/v1/workers/job-1'),
      (r) => r.body.state === 'terminated',
    );
    expect(done.body).toMatchObject({
      state: 'terminated',
      exitCode: 0,
      terminationReason: 'JobCompleted',
    });
    // The history is the event store's: the state may change a moment before its event lands.
    const history = await eventually(
      () => t.api('GET', '/v1/workers/job-1/events'),
      (r) => (r.body.events as unknown[]).length >= 4,
    );
    const types = (history.body.events as { type: string }[]).map((e) => e.type.split('.').at(-1));
    expect(types).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
      'WorkerEphemeralTerminated',
    ]);
    const logs = await t.api('GET', '/v1/workers/job-1/logs');
    expect(logs.status).toBe(200);
    expect(logs.body).toContain('done');
    const removed = await t.api('DELETE', '/v1/workers/job-1');
    expect(removed.status).toBe(200);
    expect((await t.api('GET', '/v1/workers/job-1')).status).toBe(404);
    expect(
      ((await t.api('GET', '/v1/workers/job-1/events')).body.events as { type: string }[]).at(-1)
        ?.type,
    ).toBe('io.hodei.lifecycle.WorkerEphemeralCleanedUp');
  });

  it('lists with filters and pages with a cursor', async () => {
    for (const id of ['page-a', 'page-b', 'page-c']) {
      expect(
        (
          await t.api('POST', '/v1/workers', {
            body: { id, mode: 'agent', command: AGENT },
          })
        ).status,
      ).toBe(201);
    }
    const first = await t.api('GET', '/v1/workers?mode=agent&limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t.api(
      'GET',
      `/v1/workers?mode=agent&limit=2&cursor=${first.body.nextCursor as string}`,
    );
    const ids = [...first.body.items, ...second.body.items].map((w: { id: string }) => w.id);
    expect(ids).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c']));
    expect(new Set(ids).size).toBe(ids.length);
    expect((await t.api('GET', '/v1/workers?limit=0')).status).toBe(400);
    expect((await t.api('GET', '/v1/workers?state=sleeping')).status).toBe(400);
    for (const id of ['page-a', 'page-b', 'page-c'])
      await t.api('DELETE', `/v1/workers/${id}?wait=true`);
  });

  it('answers 429 above HODEI_MAX_WORKERS, also to creates that arrive at once, creating nothing more', async () => {
    const ids = ['cap-1', 'cap-2', 'cap-3', 'cap-4', 'cap-5', 'cap-6', 'cap-7'];
    const answers = await Promise.all(
      ids.map((id) =>
        t.api('POST', '/v1/workers', { body: { id, mode: 'agent', command: AGENT } }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 201, 201, 201, 429, 429]);
    const refused = answers.find((a) => a.status === 429);
    expect(refused?.body.error).toBe('TooManyWorkers');
    const listed = await t.api('GET', '/v1/workers?state=ready&limit=100');
    const creating = await t.api('GET', '/v1/workers?state=creating&limit=100');
    expect(listed.body.items.length + creating.body.items.length).toBe(5);
    for (const id of ids) await t.api('DELETE', `/v1/workers/${id}?wait=true`);
  });

  it('runs the passes on POST /v1/gc and answers their stats', async () => {
    const gc = await t.api('POST', '/v1/gc');
    expect(gc.status).toBe(200);
    expect(gc.body).toMatchObject({
      workersCleaned: expect.any(Number),
      orphansDetected: expect.any(Number),
      errors: 0,
      durationMs: expect.any(Number),
    });
    expect(gc.body.byProvider[providerId]).toMatchObject({
      workersCleaned: expect.any(Number),
      ttlExpired: expect.any(Number),
    });
  });

  it('streams events live and resumes after Last-Event-ID with exactly the missed ones', async () => {
    const live = collectSse(`${t.url}/v1/events?workerId=sse-1`, {}, (events) =>
      events.some((e) => e.event === 'WorkerEphemeralReady'),
    );
    await new Promise((r) => setTimeout(r, 200));
    await t.api('POST', '/v1/workers', {
      body: { id: 'sse-1', mode: 'agent', command: AGENT },
    });
    const seen = await live;
    expect(seen.map((e) => e.event)).toEqual(['WorkerEphemeralCreated', 'WorkerEphemeralReady']);
    const created = JSON.parse(seen[0]!.data) as {
      type: string;
      subject: string;
      specversion: string;
    };
    expect(created).toMatchObject({
      specversion: '1.0',
      type: 'io.hodei.lifecycle.WorkerEphemeralCreated',
      subject: 'sse-1',
    });

    // Missed while disconnected: busy, ready, then the destroy's events.
    await t.api('POST', '/v1/workers/sse-1/busy');
    await t.api('POST', '/v1/workers/sse-1/ready');
    await t.api('DELETE', '/v1/workers/sse-1?wait=true');
    const resumed = await collectSse(
      `${t.url}/v1/events?workerId=sse-1`,
      { 'last-event-id': seen[1]!.id! },
      (events) => events.some((e) => e.event === 'WorkerEphemeralCleanedUp'),
    );
    expect(resumed.map((e) => e.event)).toEqual([
      'WorkerEphemeralBusy',
      'WorkerEphemeralReady',
      'WorkerEphemeralTerminating',
      'WorkerEphemeralTerminated',
      'WorkerEphemeralCleanedUp',
    ]);
  });

  it('exposes Prometheus metrics named hodei_*', async () => {
    const response = await fetch(`${t.url}/metrics`);
    const text = await response.text();
    expect(response.headers.get('content-type')).toContain('text/plain');
    for (const name of [
      'hodei_workers',
      'hodei_worker_transitions_total',
      'hodei_events_published_total',
      'hodei_event_publish_failures_total',
      'hodei_gc_duration_seconds',
      'hodei_reconcile_duration_seconds',
      'hodei_orphans_detected_total',
      'hodei_workers_lost_total',
      'hodei_spooled_events',
      'hodei_provider_call_duration_seconds',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('serves metrics that promtool parses, with no lint problem in hodei_ metrics', async () => {
    await t.api('POST', '/v1/gc');
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error, 'promtool is missing: run scripts/services.sh up').toBeUndefined();
    const report = `${check.stdout}${check.stderr}`;
    expect(report).not.toMatch(/error|parse/i);
    // prom-client's default nodejs_*_total gauges trip the lint; ours must not.
    expect(report.split('\n').filter((line) => line.includes('hodei_'))).toEqual([]);
  });
});

describe('the HTTP API with lifecycle management off', () => {
  let t: ServerProcess;

  beforeAll(async () => {
    t = await spawnServer({
      HODEI_PROVIDERS: `docker:${uniqueProviderId()}`,
      HODEI_LIFECYCLE_ENABLED: 'false',
      HODEI_DATA_DIR: await tempDataDir(),
    });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('creates, lists and destroys workers without tracking or events', async () => {
    const live = collectSse(`${t.url}/v1/events`, {}, () => false, 3_000);
    const created = await t.api('POST', '/v1/workers', {
      body: { id: 'bare-1', mode: 'agent', command: AGENT },
    });
    expect(created.status).toBe(201);
    expect((await t.api('GET', '/v1/workers')).body.items.map((w: { id: string }) => w.id)).toEqual(
      ['bare-1'],
    );
    expect((await t.api('POST', '/v1/workers/bare-1/busy')).body.error).toBe('LifecycleDisabled');
    expect((await t.api('DELETE', '/v1/workers/bare-1?wait=true')).status).toBe(200);
    await eventually(
      () => t.api('GET', '/v1/workers'),
      (r) => r.body.items.length === 0,
    );
    expect(await live).toEqual([]);
  });
});

/**
 * The fuzz runs in-process on the simulated cluster: random image names on Docker would have
 * the engine try to pull them from registries, and this machine reaches none.
 */
describe('the HTTP API under random bodies', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('never answers a 5xx, whatever the body', async () => {
    const anything = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          id: fc.string(),
          mode: fc.string(),
          image: fc.string(),
          command: fc.anything(),
          env: fc.dictionary(fc.string(), fc.anything()),
          labels: fc.dictionary(fc.string(), fc.string()),
          policy: fc.dictionary(fc.string(), fc.jsonValue()),
          resources: fc.anything(),
        },
        { requiredKeys: [] },
      ),
    );
    const created: string[] = [];
    await fc.assert(
      fc.asyncProperty(anything, async (body) => {
        const r = await t.api('POST', '/v1/workers', {
          raw: JSON.stringify(body) ?? 'null',
          headers: { 'content-type': 'application/json' },
        });
        expect(r.status).toBeLessThan(500);
        if (r.status === 201) created.push(r.body.id as string);
      }),
      { numRuns: 150 },
    );
    for (const id of created) await t.api('DELETE', `/v1/workers/${id}?wait=true`);
  });
});
