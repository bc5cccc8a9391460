import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerConnection } from '@hodei/docker-adapter';
import { requireTestDocker } from '@hodei/docker-adapter/testing';
import { runHodei } from '../testing/hodei-child.js';
import {
  createTestDatabase,
  removeContainersOf,
  tempDataDir,
  uniqueProviderId,
  type TestDatabase,
} from '../testing/server-process.js';
import {
  eventually,
  startTestServer,
  TEST_TOKEN,
  type TestServer,
} from '../testing/test-server.js';
import { dockerEnvOfRun } from '../testing/docker-env.js';

/**
 * Runtime extension, heartbeats and explainable deadlines over HTTP and the CLI, on the real
 * Docker Engine with the PostgreSQL event store: the deadlines the worker JSON gives move with
 * each change, the cap holds, and the deadline pass acts on the moved deadlines.
 */

/** An agent's command that ends at once on SIGTERM, so stops do not wait out the grace. */
const AGENT = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];
const CAP_SECONDS = 3600;
const SECOND = 1000;

interface CloudEvent {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

let t: TestServer;
let db: TestDatabase;
let docker: DockerConnection['docker'];
const providerId = uniqueProviderId();

const worker = async (id: string) => (await t.api('GET', `/v1/workers/${id}`)).body;
const history = async (id: string): Promise<CloudEvent[]> =>
  ((await t.api('GET', `/v1/workers/${id}/events`)).body?.events ?? []) as CloudEvent[];
const shortType = (e: CloudEvent) => e.type.replace('io.hodei.lifecycle.', '');
const createAgent = async (id: string, policy: Record<string, number>) => {
  const created = await t.api('POST', '/v1/workers', {
    body: { id, mode: 'agent', command: AGENT, policy },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
};
const untilState = async (id: string, states: readonly string[]) => {
  const w = await eventually(
    () => worker(id),
    (x) => states.includes(x?.state),
  );
  expect(states).toContain(w?.state);
  return w;
};
const patch = (id: string, body: unknown, headers?: Record<string, string>) =>
  headers === undefined
    ? t.api('PATCH', `/v1/workers/${id}/policy`, { body })
    : t.api('PATCH', `/v1/workers/${id}/policy`, { raw: JSON.stringify(body), headers });
const heartbeat = (id: string, by?: string) =>
  t.api('POST', `/v1/workers/${id}/heartbeat`, by === undefined ? {} : { body: { by } });

beforeAll(async () => {
  docker = (await requireTestDocker()).docker;
  db = await createTestDatabase();
  t = await startTestServer({
    HODEI_PROVIDERS: `docker:${providerId}`,
    DATABASE_URL: db.url,
    HODEI_EVENT_PUBLISHER: 'postgres,logger',
    HODEI_DATA_DIR: await tempDataDir(),
    HODEI_GC_INTERVAL_SECONDS: '1',
    HODEI_RECONCILE_INTERVAL_SECONDS: '1',
    HODEI_MAX_LIFETIME_SECONDS: String(CAP_SECONDS),
    ...dockerEnvOfRun(),
  });
});

afterAll(async () => {
  await t?.stop();
  if (docker !== undefined) await removeContainersOf(docker, [providerId]);
  await db?.drop();
});

describe('PATCH /v1/workers/{id}/policy', () => {
  it('extends a running agent: its lifetimeAt moves, and the change is an event', async () => {
    await createAgent('ext-1', { maxLifetimeSeconds: 600, idleTimeoutSeconds: 600 });
    const before = await untilState('ext-1', ['ready']);
    expect(Date.parse(before.deadlines.lifetimeAt)).toBe(
      Date.parse(before.createdAt) + 600 * SECOND,
    );
    const extended = await patch('ext-1', { maxLifetimeSeconds: 1800 });
    expect(extended.status, JSON.stringify(extended.body)).toBe(200);
    expect(extended.headers.get('hodei-policy-changed')).toBe('maxLifetimeSeconds');
    expect(extended.body.policy.maxLifetimeSeconds).toBe(1800);
    expect(Date.parse(extended.body.deadlines.lifetimeAt)).toBe(
      Date.parse(before.createdAt) + 1800 * SECOND,
    );
    expect((await worker('ext-1')).deadlines.lifetimeAt).toBe(extended.body.deadlines.lifetimeAt);
    // A partial update of another field: the lifetime stays as extended.
    const merged = await patch('ext-1', { idleTimeoutSeconds: 900 });
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    expect(merged.body.policy).toMatchObject({ maxLifetimeSeconds: 1800, idleTimeoutSeconds: 900 });
    // The same values again: nothing changed, the header says so, no event.
    const same = await patch('ext-1', { idleTimeoutSeconds: 900 });
    expect(same.status).toBe(200);
    expect(same.headers.get('hodei-policy-changed')).toBe('');
    // JSON only: a merge patch or text is refused before its body is looked at.
    for (const type of ['application/merge-patch+json', 'text/plain']) {
      const refused = await patch('ext-1', { idleTimeoutSeconds: 'x' }, { 'content-type': type });
      expect(refused.status, type).toBe(415);
      expect(refused.body.error).toBe('UnsupportedMediaType');
    }
    const changes = await eventually(
      async () =>
        (await history('ext-1')).filter((e) => shortType(e) === 'WorkerEphemeralPolicyChanged'),
      (list) => list.length === 2,
    );
    expect(changes.map((e) => e.data['changed'])).toEqual([['maxLifetime'], ['idleTimeout']]);
    expect(changes[0]?.data).toMatchObject({
      previous: { maxLifetime: 600 * SECOND },
      current: { maxLifetime: 1800 * SECOND },
    });
  });

  it('refuses an extension past HODEI_MAX_LIFETIME_SECONDS, at create too, naming it', async () => {
    await createAgent('ext-cap', { maxLifetimeSeconds: 600 });
    const past = await patch('ext-cap', { maxLifetimeSeconds: CAP_SECONDS + 1 });
    expect(past.status).toBe(400);
    expect(past.body.error).toBe('PolicyLimitExceeded');
    expect(past.body.message).toContain(`HODEI_MAX_LIFETIME_SECONDS=${CAP_SECONDS}`);
    expect(past.body.problems).toEqual([
      {
        path: 'body.maxLifetimeSeconds',
        message: expect.stringContaining('HODEI_MAX_LIFETIME_SECONDS'),
      },
    ]);
    // The cap is named even when the change breaks another rule as well (idle above lifetime).
    const huge = await patch('ext-cap', {
      maxLifetimeSeconds: CAP_SECONDS + 60,
      idleTimeoutSeconds: CAP_SECONDS + 120,
    });
    expect(huge.status).toBe(400);
    expect(huge.body.error).toBe('PolicyLimitExceeded');
    expect(huge.body.problems[0].path).toBe('body.maxLifetimeSeconds');
    // A relative extension past it names its own field.
    const relative = await patch('ext-cap', { extendLifetimeBySeconds: CAP_SECONDS });
    expect(relative.status).toBe(400);
    expect(relative.body.problems[0].path).toBe('body.extendLifetimeBySeconds');
    expect((await worker('ext-cap')).policy.maxLifetimeSeconds).toBe(600);
    const atCap = await patch('ext-cap', { maxLifetimeSeconds: CAP_SECONDS });
    expect(atCap.status).toBe(200);

    const create = await t.api('POST', '/v1/workers', {
      body: {
        id: 'ext-cap-2',
        mode: 'agent',
        command: AGENT,
        policy: { maxLifetimeSeconds: CAP_SECONDS + 1 },
      },
    });
    expect(create.status).toBe(400);
    expect(create.body.problems).toEqual([
      {
        path: 'body.policy.maxLifetimeSeconds',
        message: expect.stringContaining(`HODEI_MAX_LIFETIME_SECONDS=${CAP_SECONDS}`),
      },
    ]);
  });

  it('names the field of an invalid or empty change', async () => {
    await createAgent('ext-bad', {});
    const unknown = await patch('ext-bad', { maxLifetimeSeconds: 60, orphanAction: 'remove' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.problems).toEqual([
      { path: 'body.orphanAction', message: 'is not a known field' },
    ]);
    const zero = await patch('ext-bad', { idleTimeoutSeconds: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.problems[0].path).toBe('body.idleTimeoutSeconds');
    // What only the domain sees (above the lifetime): named as the request's field, in seconds.
    const above = await patch('ext-bad', { idleTimeoutSeconds: 7200 });
    expect(above.status).toBe(400);
    expect(above.body).toMatchObject({
      error: 'InvalidPolicy',
      problems: [
        { path: 'body.idleTimeoutSeconds', message: '7200 s must not exceed maxLifetimeSeconds' },
      ],
    });
    expect(JSON.stringify(above.body)).not.toMatch(/\d ms\b/);
    const both = await patch('ext-bad', { extendLifetimeBySeconds: 60, maxLifetimeSeconds: 600 });
    expect(both.status).toBe(400);
    expect(both.body.problems[0].path).toBe('body.extendLifetimeBySeconds');
    const empty = await patch('ext-bad', {});
    expect(empty.status).toBe(400);
    expect(empty.body.problems).toEqual([
      { path: 'body', message: 'must name at least one field' },
    ]);
    const ghost = await patch('ext-ghost', { maxLifetimeSeconds: 60 });
    expect(ghost.status).toBe(404);
  });

  it("moves a finished worker's cleanupAt, and refuses its lifetime (409)", async () => {
    const created = await t.api('POST', '/v1/workers', {
      body: {
        id: 'ext-done',
        command: ['sh', '-c', 'exit 0'],
        policy: { ttlAfterCompletionSeconds: 600 },
      },
    });
    expect(created.status).toBe(201);
    const done = await untilState('ext-done', ['terminated']);
    expect(Date.parse(done.deadlines.cleanupAt)).toBe(Date.parse(done.terminatedAt) + 600 * SECOND);
    expect(done.deadlines.next).toEqual({ rule: 'ttl', at: done.deadlines.cleanupAt });
    const kept = await patch('ext-done', { ttlAfterCompletionSeconds: 1200 });
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect(Date.parse(kept.body.deadlines.cleanupAt)).toBe(
      Date.parse(done.terminatedAt) + 1200 * SECOND,
    );
    const lifetime = await patch('ext-done', { maxLifetimeSeconds: 1200 });
    expect(lifetime.status).toBe(409);
    expect(lifetime.body.error).toBe('PolicyNotChangeable');
    // The state first: a value that would be invalid as well is refused for the state.
    const invalid = await patch('ext-done', { idleTimeoutSeconds: 7200 });
    expect([invalid.status, invalid.body.error]).toEqual([409, 'PolicyNotChangeable']);
    expect((await heartbeat('ext-done')).status).toBe(409);
  });

  it('counts concurrent relative extensions each (extendLifetimeBySeconds)', async () => {
    await createAgent('ext-rel', { maxLifetimeSeconds: 600, idleTimeoutSeconds: 600 });
    const answers = await Promise.all(
      [1, 2, 3].map(() => patch('ext-rel', { extendLifetimeBySeconds: 60 })),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.headers.get('hodei-policy-changed'))).toEqual([
      'maxLifetimeSeconds',
      'maxLifetimeSeconds',
      'maxLifetimeSeconds',
    ]);
    expect((await worker('ext-rel')).policy.maxLifetimeSeconds).toBe(780);
  });
});

describe('POST /v1/workers/{id}/heartbeat', () => {
  it('moves idleAt and lastActivity, and records no event', async () => {
    await createAgent('hb-1', { idleTimeoutSeconds: 600 });
    const ready = await untilState('hb-1', ['ready']);
    const idleBefore = Date.parse(ready.deadlines.idleAt);
    const seen = await eventually(
      () => history('hb-1'),
      (events) => events.some((e) => shortType(e) === 'WorkerEphemeralReady'),
    );
    // A later lastActivity than the ready's, whatever the clock's resolution.
    await eventually(
      () => Promise.resolve(Date.now()),
      (now) => now > Date.parse(ready.lastActivity.at),
    );
    const touched = await heartbeat('hb-1', 'dispatcher-7');
    expect(touched.status, JSON.stringify(touched.body)).toBe(200);
    expect(touched.body.lastActivity.by).toBe('dispatcher-7');
    expect(Date.parse(touched.body.deadlines.idleAt)).toBeGreaterThan(idleBefore);
    expect(Date.parse(touched.body.deadlines.idleAt)).toBe(
      Date.parse(touched.body.lastActivity.at) + 600 * SECOND,
    );
    expect((await heartbeat('hb-1')).body.lastActivity.by).toBe('api');
    // An event after the heartbeats: once it is in the history, anything they recorded would be.
    expect((await patch('hb-1', { expiryWarningSeconds: 5 })).status).toBe(200);
    const after = await eventually(
      () => history('hb-1'),
      (events) => events.some((e) => shortType(e) === 'WorkerEphemeralPolicyChanged'),
    );
    expect(after.slice(seen.length).map(shortType)).toEqual(['WorkerEphemeralPolicyChanged']);
    expect((await heartbeat('hb-1', '')).status).toBe(400);
    expect((await heartbeat('hb-1', '   ')).status).toBe(400);
  });

  it('refuses a job: heartbeats are for agents (409 NotAnAgent)', async () => {
    const created = await t.api('POST', '/v1/workers', { body: { id: 'hb-job', command: AGENT } });
    expect(created.status).toBe(201);
    const refused = await heartbeat('hb-job', 'dispatcher-7');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('NotAnAgent');
    expect(refused.body.message).toContain('heartbeats are for agents');
  });

  it('keeps an idle agent alive past its first idle deadline, and it stops for IdleTimeout once they stop', async () => {
    const IDLE = 5;
    await createAgent('hb-idle', { idleTimeoutSeconds: IDLE, expiryWarningSeconds: 0 });
    const ready = await untilState('hb-idle', ['ready']);
    const firstIdleAt = Date.parse(ready.deadlines.idleAt);
    // Heartbeats until a pass has run past the first deadline: the agent stays ready.
    let last = ready;
    while (Date.now() <= firstIdleAt + SECOND) {
      const touched = await heartbeat('hb-idle', 'keeper');
      expect(touched.status, JSON.stringify(touched.body)).toBe(200);
      last = touched.body;
      await new Promise((r) => setTimeout(r, 250));
    }
    await heartbeat('hb-idle', 'keeper');
    expect((await t.api('POST', '/v1/gc')).status).toBe(200);
    const alive = await worker('hb-idle');
    expect(alive.state).toBe('ready');
    expect(Date.parse(alive.deadlines.idleAt)).toBeGreaterThan(firstIdleAt);
    expect(last.lastActivity.by).toBe('keeper');
    // No more heartbeats: the pass stops it for IdleTimeout, its last activity on the event.
    const stopped = await eventually(
      () => worker('hb-idle'),
      (w) => w?.state === 'terminated',
    );
    expect(stopped).toMatchObject({ state: 'terminated', terminationReason: 'IdleTimeout' });
    const terminating = (await history('hb-idle')).find(
      (e) => shortType(e) === 'WorkerEphemeralTerminating',
    );
    expect(terminating?.data).toMatchObject({
      reason: 'IdleTimeout',
      lastActivity: { by: 'keeper' },
    });
  });
});

describe('the expiry warning', () => {
  it('arrives as WorkerEphemeralExpiring before the lifetime termination', async () => {
    await createAgent('warn-1', {
      maxLifetimeSeconds: 8,
      expiryWarningSeconds: 5,
      idleTimeoutSeconds: 8,
      startupTimeoutSeconds: 8,
    });
    const created = await worker('warn-1');
    const events = await eventually(
      () => history('warn-1'),
      (list) => list.some((e) => shortType(e) === 'WorkerEphemeralTerminated'),
    );
    const types = events.map(shortType);
    const warning = events.find((e) => shortType(e) === 'WorkerEphemeralExpiring');
    expect(warning?.data).toMatchObject({ rule: 'lifetime', at: created.deadlines.lifetimeAt });
    expect(types.indexOf('WorkerEphemeralExpiring')).toBeLessThan(
      types.indexOf('WorkerEphemeralTerminating'),
    );
    expect(types.filter((x) => x === 'WorkerEphemeralExpiring')).toHaveLength(1);
    expect(events.find((e) => shortType(e) === 'WorkerEphemeralTerminating')?.data).toMatchObject({
      reason: 'LifetimeExceeded',
    });
  });
});

describe('hodei workers extend and heartbeat', () => {
  const hodei = (...args: string[]) =>
    runHodei([...args, '--url', t.url], { HODEI_API_TOKEN: TEST_TOKEN, NO_COLOR: '1' });

  it("extend moves a job's lifetime (--lifetime, --add) and prints the next deadline", async () => {
    // A job: its lifetime is its only deadline while it runs.
    const created = await t.api('POST', '/v1/workers', {
      body: { id: 'cli-ext', command: AGENT, policy: { maxLifetimeSeconds: 600 } },
    });
    expect(created.status).toBe(201);
    const ready = await untilState('cli-ext', ['busy']);
    const set = await hodei('workers', 'extend', 'cli-ext', '--lifetime', '20m');
    expect(set, set.stderr).toMatchObject({ code: 0, stderr: '' });
    const lifetimeAt = new Date(Date.parse(ready.createdAt) + 1200 * SECOND).toISOString();
    expect(set.stdout).toMatch(
      new RegExp(
        `^worker cli-ext changed maxLifetimeSeconds; next: lifetime \\(LifetimeExceeded\\) at ${lifetimeAt.replaceAll('.', '\\.')} \\(in \\d+m\\d*s?\\)\\n$`,
      ),
    );
    const added = await hodei('workers', 'extend', 'cli-ext', '--add', '10m', '-o', 'json');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      policy: { maxLifetimeSeconds: 1800 },
      deadlines: {
        lifetimeAt: new Date(Date.parse(ready.createdAt) + 1800 * SECOND).toISOString(),
      },
    });
    const same = await hodei('workers', 'extend', 'cli-ext', '--lifetime', '30m');
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/^worker cli-ext: no change; next: lifetime /);
    const past = await hodei('workers', 'extend', 'cli-ext', '--add', '2h');
    expect(past.code).toBe(1);
    expect(past.stderr).toContain(`HODEI_MAX_LIFETIME_SECONDS=${CAP_SECONDS}`);
  });

  it('heartbeat restarts the idle clock, by whom it says; inspect shows the deadlines', async () => {
    await createAgent('cli-hb', { maxLifetimeSeconds: 3600, idleTimeoutSeconds: 3000 });
    await untilState('cli-hb', ['ready']);
    const run = await hodei('workers', 'heartbeat', 'cli-hb', '--by', 'dispatcher-9');
    expect(run, run.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(
      /^worker cli-hb touched by dispatcher-9; next: idle \(IdleTimeout\) at \S+ \(in (49m|50m)\)\n$/,
    );
    expect((await worker('cli-hb')).lastActivity.by).toBe('dispatcher-9');
    const wide = await hodei('workers', 'inspect', 'cli-hb', '-o', 'wide');
    expect(wide.code).toBe(0);
    expect(wide.stdout).toMatch(/^ {2}lifetime: +\S+ \(in \d+m\)$/m);
    expect(wide.stdout).toMatch(/^ {2}idle: +\S+ \(in (49m|50m)\)$/m);
    expect(wide.stdout).toMatch(/^Next: idle \(IdleTimeout\) at /m);
    expect(wide.stdout).toMatch(/^Last activity: \S+ \(\d+s ago\) by dispatcher-9$/m);
  });
});

describe('with lifecycle management off', () => {
  const bareProvider = uniqueProviderId();
  let bare: TestServer;

  beforeAll(async () => {
    bare = await startTestServer({
      HODEI_PROVIDERS: `docker:${bareProvider}`,
      HODEI_LIFECYCLE_ENABLED: 'false',
      HODEI_DATA_DIR: await tempDataDir(),
      ...dockerEnvOfRun(),
    });
  });

  afterAll(async () => {
    await bare?.stop();
    if (docker !== undefined) await removeContainersOf(docker, [bareProvider]);
  });

  it('answers 404 for an unknown worker, and 409 LifecycleDisabled for one it runs', async () => {
    const unknownPatch = await bare.api('PATCH', '/v1/workers/nobody/policy', {
      body: { maxLifetimeSeconds: 60 },
    });
    expect([unknownPatch.status, unknownPatch.body.error]).toEqual([404, 'WorkerNotFound']);
    const unknownBeat = await bare.api('POST', '/v1/workers/nobody/heartbeat', {});
    expect(unknownBeat.status).toBe(404);
    const created = await bare.api('POST', '/v1/workers', {
      body: { id: 'bare-1', mode: 'agent', command: AGENT },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const beat = await bare.api('POST', '/v1/workers/bare-1/heartbeat', {});
    expect([beat.status, beat.body.error]).toEqual([409, 'LifecycleDisabled']);
    expect(beat.body.message).toContain('no idle clock for a heartbeat to restart');
    const change = await bare.api('PATCH', '/v1/workers/bare-1/policy', {
      body: { maxLifetimeSeconds: 60 },
    });
    expect([change.status, change.body.error]).toEqual([409, 'LifecycleDisabled']);
  });
});
