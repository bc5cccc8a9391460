import { createServer, connect, type Server, type Socket } from 'node:net';
import {
  type LogLine,
  type ProviderWatchEvent,
  type WorkerHandle,
  type WorkerId,
  type WorkerSpec,
  type WorkerStatus,
} from '@hodei/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerName } from './container-name.js';
import { connectDocker, DEFAULT_DOCKER_SOCKET } from './docker-connection.js';
import { DockerWorkerProvider } from './docker-worker-provider.js';
import { startDockerTestRun, testWorkerImage, type DockerTestRun } from './testing/index.js';

let run: DockerTestRun;
let provider: DockerWorkerProvider;

beforeAll(async () => {
  run = await startDockerTestRun();
  provider = DockerWorkerProvider.create({
    providerId: run.providerId,
    connection: run.connection,
  })._unsafeUnwrap();
});

afterAll(async () => {
  await run?.cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const spec = (overrides: Partial<WorkerSpec> = {}): WorkerSpec => run.jobSpec(overrides);

const create = async (overrides: Partial<WorkerSpec> = {}): Promise<WorkerHandle> =>
  (await provider.createWorker(spec(overrides)))._unsafeUnwrap();

/** Waits generously; timings are the benchmark's business. */
async function eventually<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  what: string,
): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(100);
  }
}

const statusOf = async (handle: WorkerHandle): Promise<WorkerStatus> =>
  (await provider.getWorkerStatus(handle))._unsafeUnwrap();

const collect = async (lines: AsyncIterable<LogLine>): Promise<LogLine[]> => {
  const all: LogLine[] = [];
  for await (const line of lines) all.push(line);
  return all;
};

describe('logs', () => {
  it('returns the last lines with tail, stdout and stderr told apart', async () => {
    // Docker copies stdout and stderr separately: only lines apart in time keep their order.
    const handle = await create({
      command: ['sh', '-c', 'echo oops >&2; sleep 0.5; for i in 1 2 3 4; do echo out $i; done'],
    });
    await eventually(
      () => statusOf(handle),
      (s) => s.state === 'exited',
      'exit',
    );
    const all = await collect((await provider.logs(handle))._unsafeUnwrap());
    expect(all).toEqual([
      { stream: 'stderr', line: 'oops' },
      { stream: 'stdout', line: 'out 1' },
      { stream: 'stdout', line: 'out 2' },
      { stream: 'stdout', line: 'out 3' },
      { stream: 'stdout', line: 'out 4' },
    ]);
    const last = await collect((await provider.logs(handle, { tail: 2 }))._unsafeUnwrap());
    expect(last).toEqual([
      { stream: 'stdout', line: 'out 3' },
      { stream: 'stdout', line: 'out 4' },
    ]);
  });

  it('follows the output while the container runs and ends when it exits', async () => {
    const handle = await create({
      command: ['sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done'],
    });
    const followed = await collect((await provider.logs(handle, { follow: true }))._unsafeUnwrap());
    expect(followed.map((l) => l.line)).toEqual(['tick 1', 'tick 2', 'tick 3']);
  });

  it('stops following when the reader stops, leaving the container running', async () => {
    const handle = await create({
      command: ['sh', '-c', 'while true; do echo beat; sleep 0.1; done'],
    });
    const seen: string[] = [];
    for await (const line of (
      await provider.logs(handle, { follow: true, tail: 0 })
    )._unsafeUnwrap()) {
      seen.push(line.line);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['beat', 'beat', 'beat']);
    expect((await statusOf(handle)).state).toBe('running');
  });

  it('ends a followed stream of a silent container when its signal aborts', async () => {
    const handle = await create({ command: ['sh', '-c', 'sleep 3600'] });
    const gone = new AbortController();
    const lines = (
      await provider.logs(handle, { follow: true, signal: gone.signal })
    )._unsafeUnwrap();
    setTimeout(() => gone.abort(), 200);
    const seen: string[] = [];
    // Without the signal this loop would wait for a line that never comes.
    try {
      for await (const line of lines) seen.push(line.line);
    } catch {
      // a stream destroyed under the reader may end with a premature-close error
    }
    expect(seen).toEqual([]);
    expect(gone.signal.aborted).toBe(true);
  });
});

describe('stop and destroy', () => {
  it('sends SIGTERM first: a worker that handles it exits on its own terms', async () => {
    const handle = await create({
      command: ['sh', '-c', 'trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done'],
    });
    await eventually(
      () => statusOf(handle),
      (s) => s.state === 'running',
      'running',
    );
    expect((await provider.stopWorker(handle, { gracePeriod: 20_000 })).isOk()).toBe(true);
    expect(await statusOf(handle)).toMatchObject({
      state: 'exited',
      exitCode: 0,
      oomKilled: false,
    });
    const lines = await collect((await provider.logs(handle))._unsafeUnwrap());
    expect(lines.map((l) => l.line)).toContain('bye');
  });

  it('kills a worker that ignores SIGTERM once the grace period is over', async () => {
    const handle = await create({ command: ['sh', '-c', 'trap "" TERM; sleep 3600'] });
    expect((await provider.stopWorker(handle, { gracePeriod: 1_000 })).isOk()).toBe(true);
    expect(await statusOf(handle)).toMatchObject({ state: 'exited', exitCode: 137 });
  });

  it('refuses to stop or destroy our container through a handle naming another worker', async () => {
    const handle = await create();
    const wrong = { ...handle, workerId: `${run.runId}-someone-else` as WorkerId };
    for (const p of [
      provider,
      DockerWorkerProvider.create({
        providerId: run.providerId,
        connection: run.connection,
      })._unsafeUnwrap(),
    ]) {
      expect((await p.stopWorker(wrong, { gracePeriod: 0 }))._unsafeUnwrapErr().type).toBe(
        'ResourceNotOwned',
      );
      expect((await p.destroyWorker(wrong, { gracePeriod: 0 }))._unsafeUnwrapErr().type).toBe(
        'ResourceNotOwned',
      );
    }
    expect((await statusOf(handle)).state).toBe('running');
  });

  it('survives concurrent destroys of one worker, from one provider and from another instance', async () => {
    const handle = await create();
    const other = DockerWorkerProvider.create({
      providerId: run.providerId,
      connection: connectDocker(process.env['DOCKER_HOST']),
    })._unsafeUnwrap();
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => provider.destroyWorker(handle, { gracePeriod: 0 })),
      ...Array.from({ length: 4 }, () => other.destroyWorker(handle, { gracePeriod: 0 })),
    ]);
    expect(results.map((r) => r.isOk())).toEqual(Array(8).fill(true));
    expect(await statusOf(handle)).toEqual({ state: 'missing' });
  });
});

describe('paused workers', () => {
  it('stops and destroys a paused worker', async () => {
    const handle = await create();
    await run.connection.docker.getContainer(handle.resourceId).pause();
    expect((await provider.stopWorker(handle, { gracePeriod: 0 })).isOk()).toBe(true);
    expect((await statusOf(handle)).state).toBe('exited');
    const paused = await create();
    await run.connection.docker.getContainer(paused.resourceId).pause();
    expect((await provider.destroyWorker(paused, { gracePeriod: 0 })).isOk()).toBe(true);
    expect(await statusOf(paused)).toEqual({ state: 'missing' });
  });
});

describe('status', () => {
  it('maps a paused container to running and an unstarted one to creating', async () => {
    const handle = await create();
    const container = run.connection.docker.getContainer(handle.resourceId);
    await container.pause();
    expect(await statusOf(handle)).toEqual({ state: 'running', health: 'none' });
    await container.unpause();

    const unstarted = spec();
    const labels = await container.inspect().then((i) => ({
      ...i.Config.Labels,
      'hodei.worker-id': unstarted.workerId,
    }));
    const created = await run.connection.docker.createContainer({
      name: containerName(run.providerId, unstarted.workerId),
      Image: testWorkerImage(),
      Labels: labels,
    });
    const status = await statusOf({
      ...handle,
      workerId: unstarted.workerId,
      resourceId: created.id,
    });
    expect(status).toEqual({ state: 'creating' });
  });

  it('reports an out-of-memory kill with its exit code and finish time', async () => {
    const handle = await create({
      resources: { memoryMb: 8 },
      command: ['sh', '-c', 'a=x; while true; do a=$a$a; done'],
    });
    const status = await eventually(
      () => statusOf(handle),
      // Docker may record the exit a moment before the kernel's OOM notice: wait for both.
      (s) => s.state === 'exited' && s.oomKilled,
      'OOM kill',
    );
    expect(status).toMatchObject({ state: 'exited', exitCode: 137, oomKilled: true });
    expect(status.state === 'exited' && status.finishedAt).toBeGreaterThanOrEqual(handle.createdAt);
  });

  it('lists exited workers with exit code and finish time, and running ones with health', async () => {
    const running = await create();
    const done = await create({ command: ['sh', '-c', 'exit 7'] });
    await eventually(
      () => statusOf(done),
      (s) => s.state === 'exited',
      'exit',
    );
    const listed = (await provider.listManagedWorkers())._unsafeUnwrap();
    expect(listed.find((r) => r.resourceId === running.resourceId)?.status).toEqual({
      state: 'running',
      health: 'none',
    });
    const exited = listed.find((r) => r.resourceId === done.resourceId);
    expect(exited?.status).toMatchObject({ state: 'exited', exitCode: 7, oomKilled: false });
    expect(exited?.createdAt).toBe(done.createdAt);
  });
});

/** A TCP front for the engine's socket that a test can cut and restore. */
class CuttableProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(
        process.env['DOCKER_HOST']?.replace('unix://', '') ?? DEFAULT_DOCKER_SOCKET,
      );
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address === 'object' && address !== null) this.port = address.port;
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

describe('watch', () => {
  it('reconnects after the connection drops and delivers what happened meanwhile', async () => {
    const proxy = new CuttableProxy();
    await proxy.open();
    const watcher = DockerWorkerProvider.create({
      providerId: run.providerId,
      connection: connectDocker(`tcp://127.0.0.1:${proxy.port}`),
      watchBackoff: { initialMs: 100, maxMs: 400 },
    })._unsafeUnwrap();
    const seen: ProviderWatchEvent[] = [];
    const subscription = watcher.watch((e) => seen.push(e));
    try {
      const handle = await create();
      const ofHandle = (): string[] =>
        seen
          .filter((e) => 'resourceId' in e && e.resourceId === handle.resourceId)
          .map((e) => e.type);
      await eventually(
        () => Promise.resolve(ofHandle()),
        (t) => t.includes('started'),
        'started',
      );

      await proxy.cut();
      await run.connection.docker.getContainer(handle.resourceId).kill();
      await sleep(500);
      expect(ofHandle()).toEqual(['started']);
      await proxy.open();

      await eventually(
        () => Promise.resolve(ofHandle()),
        (t) => t.includes('exited'),
        'exited after reconnection',
      );
      expect(
        seen.find(
          (e) => 'resourceId' in e && e.resourceId === handle.resourceId && e.type === 'exited',
        ),
      ).toMatchObject({
        type: 'exited',
        workerId: handle.workerId,
        exitCode: 137,
      });
      await provider.destroyWorker(handle, { gracePeriod: 0 });
      await eventually(
        () => Promise.resolve(ofHandle()),
        (t) => t.includes('removed'),
        'removed',
      );
      // Each fact once, even though the reconnection replayed from the last event's second.
      expect(ofHandle()).toEqual(['started', 'exited', 'removed']);
    } finally {
      subscription.close();
      await proxy.cut();
    }
  });

  it('pushes health changes of a worker with a healthcheck', async () => {
    const checked = DockerWorkerProvider.create({
      providerId: run.providerId,
      connection: run.connection,
      healthcheck: { test: ['sh', '-c', 'exit 1'], intervalMs: 200, timeoutMs: 1_000, retries: 1 },
    })._unsafeUnwrap();
    const seen: ProviderWatchEvent[] = [];
    const subscription = checked.watch((e) => seen.push(e));
    try {
      const handle = (await checked.createWorker(spec({ mode: 'agent' })))._unsafeUnwrap();
      await eventually(
        () =>
          Promise.resolve(
            seen.filter((e) => 'resourceId' in e && e.resourceId === handle.resourceId),
          ),
        (events) => events.some((e) => e.type === 'health' && e.health === 'unhealthy'),
        'unhealthy notification',
      );
      expect(await statusOf(handle)).toEqual({ state: 'running', health: 'unhealthy' });
    } finally {
      subscription.close();
    }
  });
});
