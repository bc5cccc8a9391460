import { requireTestDocker } from '@hodei/docker-adapter/testing';
import type { DockerConnection } from '@hodei/docker-adapter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './testing/test-server.js';
import {
  createTestDatabase,
  removeContainersOf,
  spawnServer,
  tempDataDir,
  uniqueProviderId,
  type ServerProcess,
  type TestDatabase,
} from './testing/server-process.js';
import { TcpProxy } from './testing/tcp-proxy.js';

/**
 * The server as operators run it: `hodei serve` in a child process, on the real Docker Engine
 * and a real PostgreSQL (a database of this file's own). Every provider id is unique to the
 * run, and every container this file caused is removed afterwards.
 */

const short = (s: string) => s.split('.').at(-1);

describe('the server on Docker and PostgreSQL', () => {
  let docker: DockerConnection['docker'];
  let db: TestDatabase;
  const providerIds: string[] = [];
  const servers: ServerProcess[] = [];

  const provider = () => {
    const id = uniqueProviderId();
    providerIds.push(id);
    return id;
  };

  const start = async (env: Record<string, string>) => {
    const s = await spawnServer({
      DATABASE_URL: db.url,
      HODEI_DATA_DIR: await tempDataDir(),
      ...env,
    });
    servers.push(s);
    return s;
  };

  const containersOf = async (workerId: string) =>
    docker.listContainers({ all: true, filters: { label: [`hodei.worker-id=${workerId}`] } });

  const eventsOf = async (workerId: string) =>
    await db.query<{ type: string; data: Record<string, unknown> }>(
      'SELECT type, data FROM hodei.events WHERE stream_id = $1 ORDER BY stream_position',
      [`worker:${workerId}`],
    );

  beforeAll(async () => {
    docker = (await requireTestDocker()).docker;
    db = await createTestDatabase();
  });

  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await removeContainersOf(docker, providerIds);
    await db?.drop();
  });

  it('creates a worker (Created, Ready, a running container), and once it exited and its TTL passed leaves nothing of it but its history', async () => {
    const s = await start({ HODEI_PROVIDERS: `docker:${provider()}` });
    const created = await s.api('POST', '/v1/workers', {
      body: {
        id: 'seed-1',
        command: ['sh', '-c', 'echo hello; sleep 3'],
        policy: { ttlAfterCompletionSeconds: 2 },
      },
    });
    expect(created.status).toBe(201);
    const running = await containersOf('seed-1');
    expect(running).toHaveLength(1);
    expect(running[0]?.State).toBe('running');
    const early = await eventually(
      () => eventsOf('seed-1'),
      (e) => e.length >= 3,
    );
    expect(early.slice(0, 3).map((e) => e.type)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
    ]);

    await eventually(
      () => s.api('GET', '/v1/workers/seed-1'),
      (r) => r.status === 404,
      30_000,
    );
    expect(await containersOf('seed-1')).toEqual([]);
    const history = await s.api('GET', '/v1/workers/seed-1/events');
    expect(history.status).toBe(200);
    expect((history.body.events as { type: string }[]).map((e) => short(e.type))).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
      'WorkerEphemeralTerminated',
      'WorkerEphemeralCleanedUp',
    ]);
    const cleaned = (await eventsOf('seed-1')).at(-1);
    expect(cleaned?.data).toMatchObject({ cleanupReason: 'TtlExpired' });

    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('cleans finished workers on a forced GC and emits CleanedUp and GarbageCollectionCompleted', async () => {
    const id = provider();
    const s = await start({ HODEI_PROVIDERS: `docker:${id}`, HODEI_GC_INTERVAL_SECONDS: '3600' });
    for (const w of ['gc-a', 'gc-b']) {
      expect(
        (
          await s.api('POST', '/v1/workers', {
            body: {
              id: w,
              command: ['sh', '-c', 'exit 0'],
              policy: { ttlAfterCompletionSeconds: 0 },
            },
          })
        ).status,
      ).toBe(201);
    }
    for (const w of ['gc-a', 'gc-b'])
      await eventually(
        () => s.api('GET', `/v1/workers/${w}`),
        (r) => r.body?.state === 'terminated',
      );
    const gc = await s.api('POST', '/v1/gc');
    expect(gc.status).toBe(200);
    expect(gc.body).toMatchObject({
      workersCleaned: 2,
      errors: 0,
      byProvider: { [id]: { workersCleaned: 2, ttlExpired: 2 } },
    });
    for (const w of ['gc-a', 'gc-b']) {
      expect((await eventsOf(w)).at(-1)?.type).toBe('WorkerEphemeralCleanedUp');
      expect(await containersOf(w)).toEqual([]);
    }
    const completed = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM hodei.events WHERE type = 'GarbageCollectionCompleted' AND provider_id = $1 AND (data->>'workersCleaned')::int = 2",
      [id],
    );
    expect(completed[0]?.n).toBe(1);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('after SIGKILL, a new server re-adopts every worker with its state and policy; a second server with the same provider id refuses to start', async () => {
    const id = provider();
    const first = await start({ HODEI_PROVIDERS: `docker:${id}` });
    await first.api('POST', '/v1/workers', {
      body: {
        id: 'rs-agent',
        mode: 'agent',
        command: ['sleep', '3600'],
        policy: {
          idleTimeoutSeconds: 900,
          maxLifetimeSeconds: 1800,
          gracefulTerminationTimeoutSeconds: 2,
        },
      },
    });
    await first.api('POST', '/v1/workers', {
      body: {
        id: 'rs-job',
        command: ['sleep', '3600'],
        policy: { gracefulTerminationTimeoutSeconds: 2 },
      },
    });
    await eventually(
      () => first.api('GET', '/v1/workers/rs-agent'),
      (r) => r.body?.state === 'ready',
    );
    expect((await first.api('POST', '/v1/workers/rs-agent/busy')).body.state).toBe('busy');
    const before = (await first.api('GET', '/v1/workers')).body.items as {
      id: string;
      policy: unknown;
      createdAt: string;
    }[];
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await start({ HODEI_PROVIDERS: `docker:${id}` });
    const after = (await second.api('GET', '/v1/workers')).body.items as {
      id: string;
      state: string;
      policy: unknown;
      createdAt: string;
    }[];
    expect(after.map((w) => [w.id, w.state]).sort()).toEqual([
      ['rs-agent', 'busy'],
      ['rs-job', 'busy'],
    ]);
    for (const w of before)
      expect(after.find((a) => a.id === w.id)).toMatchObject({
        policy: w.policy,
        createdAt: w.createdAt,
      });
    const recovered = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM hodei.events WHERE type = 'WorkerRecovered' AND provider_id = $1",
      [id],
    );
    expect(recovered[0]?.n).toBe(2);

    const rival = await spawnServer({
      DATABASE_URL: db.url,
      HODEI_DATA_DIR: await tempDataDir(),
      HODEI_PROVIDERS: `docker:${id}`,
    }).then(
      () => 'started',
      (e: Error) => e.message,
    );
    expect(rival).toContain(
      `provider id "${id}" is already served by "hodei-server pid=${second.child.pid}`,
    );

    for (const w of ['rs-agent', 'rs-job'])
      expect((await second.api('DELETE', `/v1/workers/${w}?wait=true`)).status).toBe(200);
    expect(await containersOf('rs-agent')).toEqual([]);
    expect(await containersOf('rs-job')).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('stops on SIGTERM with exit 0 within 10 s, leaving workers running; with HODEI_REMOVE_WORKERS_ON_SHUTDOWN it removes them', async () => {
    const id = provider();
    const keep = await start({ HODEI_PROVIDERS: `docker:${id}` });
    await keep.api('POST', '/v1/workers', {
      body: {
        id: 'keep-1',
        mode: 'agent',
        command: ['sleep', '3600'],
      },
    });
    const t0 = Date.now();
    keep.child.kill('SIGTERM');
    expect(await keep.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect((await containersOf('keep-1'))[0]?.State).toBe('running');

    const remove = await start({
      HODEI_PROVIDERS: `docker:${id}`,
      HODEI_REMOVE_WORKERS_ON_SHUTDOWN: 'true',
    });
    expect((await remove.api('GET', '/v1/workers/keep-1')).body.state).toBe('ready');
    remove.child.kill('SIGTERM');
    expect(await remove.exited).toBe(0);
    expect(await containersOf('keep-1')).toEqual([]);
    expect((await eventsOf('keep-1')).at(-1)?.data).toMatchObject({
      cleanupReason: 'ProviderShutdown',
    });
  });

  it('answers 503 naming the Docker host when it is unreachable, and says so on /readyz', async () => {
    const s = await spawnServer({
      HODEI_PROVIDERS: `docker:${provider()}`,
      DOCKER_HOST: 'unix:///nonexistent/hodei-e2e.sock',
      HODEI_DATA_DIR: await tempDataDir(),
    });
    servers.push(s);
    const created = await s.api('POST', '/v1/workers', { body: { id: 'no-docker' } });
    expect(created.status).toBe(503);
    expect(created.body.error).toBe('ProviderUnavailable');
    expect(created.body.message).toContain('/nonexistent/hodei-e2e.sock');
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  it('refuses writes while PostgreSQL and its provider lock are gone, then takes the lock again and stores every event once, in order', async () => {
    const target = new URL(db.url);
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    try {
      const s = await start({
        HODEI_PROVIDERS: `docker:${provider()}`,
        DATABASE_URL: viaProxy.toString(),
      });
      await s.api('POST', '/v1/workers', {
        body: {
          id: 'outage-1',
          mode: 'agent',
          command: ['sleep', '3600'],
          policy: { gracefulTerminationTimeoutSeconds: 1 },
        },
      });
      await eventually(
        () => s.api('GET', '/v1/workers/outage-1'),
        (r) => r.body?.state === 'ready',
      );
      await proxy.cut();
      // The cut ends the lock's session: another server may hold the lock now, so this one
      // does not act until it has it again.
      // (A probe that changes nothing: 404 until the server notices, then 503.)
      await eventually(
        () => s.api('DELETE', '/v1/workers/no-such-worker'),
        (r) => r.status === 503,
      );
      const refused = await s.api('POST', '/v1/workers/outage-1/busy');
      expect(refused.status).toBe(503);
      expect(refused.body?.error).toBe('ProviderNotRecovered');
      expect(refused.headers.get('retry-after')).not.toBeNull();
      expect((await s.api('GET', '/v1/workers/outage-1')).body?.state).toBe('ready');
      await proxy.restore();
      await eventually(
        () => s.api('POST', '/v1/workers/outage-1/busy'),
        (r) => r.status === 200,
        30_000,
      );
      expect((await s.api('POST', '/v1/workers/outage-1/ready')).status).toBe(200);
      expect((await s.api('DELETE', '/v1/workers/outage-1?wait=true')).status).toBe(200);
      const stored = await eventually(
        () => eventsOf('outage-1'),
        (e) => e.at(-1)?.type === 'WorkerEphemeralCleanedUp',
        30_000,
      );
      expect(stored.map((e) => e.type)).toEqual([
        'WorkerEphemeralCreated',
        'WorkerEphemeralReady',
        'WorkerEphemeralBusy',
        'WorkerEphemeralReady',
        'WorkerEphemeralTerminating',
        'WorkerEphemeralTerminated',
        'WorkerEphemeralCleanedUp',
      ]);
      // The provider lock went with the cut session; the server takes it again.
      const relocked = await eventually(
        () =>
          db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
              WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE $1`,
            [`hodei-server pid=${s.child.pid} %`],
          ),
        (rows) => rows[0]?.n === 1,
        30_000,
      );
      expect(relocked[0]?.n).toBe(1);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
