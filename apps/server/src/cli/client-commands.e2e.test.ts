import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  startTestServer,
  TEST_TOKEN,
  type TestServer,
} from '../testing/test-server.js';
import { runHodei, startHodei } from '../testing/hodei-child.js';

// The client commands against a real server (the Kubernetes stub: no Docker needed).
let t: TestServer;
/** `hodei args… --url <test server>`; --url before a `--`, after which comes the command. */
const hodei = (...args: string[]) => {
  const dash = args.includes('--') ? args.indexOf('--') : args.length;
  return runHodei([...args.slice(0, dash), '--url', t.url, ...args.slice(dash)], {
    HODEI_API_TOKEN: TEST_TOKEN,
    NO_COLOR: '1',
  });
};

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
const create = (id: string, command: string, policy: Record<string, number> = {}) =>
  t.api('POST', '/v1/workers', { body: { id, command: ['sh', '-c', command], policy } });
const stateOf = async (id: string) => (await t.api('GET', `/v1/workers/${id}`)).body?.state;
const until = (id: string, state: string) =>
  eventually(
    () => stateOf(id),
    (s) => s === state,
  );

beforeAll(async () => {
  t = await startTestServer({
    HODEI_GC_INTERVAL_SECONDS: '1',
    HODEI_RECONCILE_INTERVAL_SECONDS: '1',
  });
});

afterAll(async () => {
  await t?.stop();
});

describe('hodei workers ls', () => {
  it('lists workers as an aligned table, as the API JSON and as ids', async () => {
    await create('ls-1', 'echo ls; sleep 600');
    const table = await hodei('workers', 'ls');
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID {3,}PROVIDER {3}MODE {3}STATE {3,}AGE {3}EXIT$/);
    expect(rows.find((r) => r.startsWith('ls-1 '))).toMatch(
      /^ls-1 +k8s-stub {3}job {4}(creating|ready|busy) +\d+s +-$/,
    );
    const json = await hodei('workers', 'ls', '-o', 'json');
    const doc = JSON.parse(json.stdout);
    expect(doc.nextCursor).toBeNull();
    expect(doc.items.find((w: { id: string }) => w.id === 'ls-1')).toMatchObject({
      id: 'ls-1',
      providerId: 'k8s-stub',
      mode: 'job',
      policy: expect.any(Object),
    });
    expect((await hodei('workers', 'ls', '-q')).stdout.split('\n')).toContain('ls-1');
    expect((await hodei('workers', 'ls', '-o', 'wide')).stdout).toMatch(
      /^ID .*IMAGE .*REASON +RESOURCE$/m,
    );
  });
});

describe('hodei workers run', () => {
  it("waits for the worker's end and exits with its exit code, its progress on stderr", async () => {
    const run = await hodei(
      'workers',
      'run',
      '--wait',
      '--id',
      'run-3',
      '--',
      'sh',
      '-c',
      'echo out; exit 3',
    );
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'hodei: worker run-3 created (provider k8s-stub, image hodei/worker:0.1.0)',
    );
    expect(run.stderr).toMatch(/worker run-3: ready|worker run-3 terminated/);
    expect(run.stderr).toMatch(/terminated \(exit code 3\)/);
  });

  it('follows its output, then exits with its exit code', async () => {
    const run = await hodei(
      'workers',
      'run',
      '-f',
      '--wait',
      '-q',
      '--',
      'sh',
      '-c',
      'echo one; sleep 1; echo two',
    );
    // -q: the id first, then its output.
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^[a-z0-9-]+\none\ntwo\n$/);
  });

  it('prints the id, or the created worker as the API answers', async () => {
    const run = await hodei(
      'workers',
      'run',
      '--id',
      'run-id',
      '--ttl-after-completion',
      '2m',
      '-e',
      'A=1',
      '-l',
      'team=ci',
      '--',
      'sleep',
      '600',
    );
    expect(run).toMatchObject({ code: 0, stdout: 'run-id\n' });
    const json = await hodei(
      'workers',
      'run',
      '-o',
      'json',
      '--id',
      'run-id',
      '--ttl-after-completion',
      '2m',
      '-e',
      'A=1',
      '-l',
      'team=ci',
      '--',
      'sleep',
      '600',
    );
    expect(JSON.parse(json.stdout)).toMatchObject({
      id: 'run-id',
      policy: { ttlAfterCompletionSeconds: 120 },
    });
  });

  it("reports the server's problems with the request, one a line", async () => {
    const run = await hodei('workers', 'run', '--id', 'Not_An_Id', '--memory', '1');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('hodei: HTTP 400 ValidationFailed:\n  - body.id: ');
    expect(run.stderr).toContain('  - body.resources.memoryMb: must be >= 6');
  });
});

describe('hodei workers inspect', () => {
  it("prints the worker's JSON as the API answers it, or a description", async () => {
    await create('insp-1', 'sleep 600');
    await until('insp-1', 'busy');
    const run = await hodei('workers', 'inspect', 'insp-1');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual((await t.api('GET', '/v1/workers/insp-1')).body);
    const wide = await hodei('workers', 'inspect', 'insp-1', '-o', 'wide');
    expect(wide.stdout).toMatch(/^State: +busy$/m);
    expect(wide.stdout).toContain('Policy:\n  maxLifetimeSeconds: ');
    expect(wide.stdout).toMatch(
      /Events:\n {2}AGE +TYPE +DETAILS\n {2}\d+s +WorkerEphemeralCreated/,
    );
  });

  it('names the worker it cannot find and says where to look', async () => {
    const run = await hodei('workers', 'inspect', 'ghost');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('hodei: worker ghost not found (WorkerNotFound, HTTP 404)');
    expect(run.stderr).toContain("'hodei events --worker ghost'");
  });
});

describe('hodei workers wait', () => {
  it('waits for ready, terminated and cleaned, and the history shows the whole life', async () => {
    await create('wait-1', 'echo w; sleep 2', { ttlAfterCompletionSeconds: 1 });
    const ready = await hodei('workers', 'wait', 'wait-1', '--for=ready');
    expect(ready).toMatchObject({ code: 0, stdout: 'worker wait-1: condition met (ready)\n' });
    const terminated = await hodei(
      'workers',
      'wait',
      'wait-1',
      '--for',
      'terminated',
      '-o',
      'json',
    );
    expect(terminated.code).toBe(0);
    expect(JSON.parse(terminated.stdout)).toMatchObject({
      id: 'wait-1',
      state: 'terminated',
      exitCode: 0,
    });
    const cleaned = await hodei('workers', 'wait', 'wait-1', '--for=cleaned', '--timeout', '1m');
    expect(cleaned).toMatchObject({ code: 0, stdout: 'worker wait-1: condition met (cleaned)\n' });
    expect((await t.api('GET', '/v1/workers/wait-1')).status).toBe(404);

    const events = await hodei('events', '--worker', 'wait-1', '-o', 'json');
    const doc = JSON.parse(events.stdout);
    expect(doc.workerId).toBe('wait-1');
    expect(
      doc.events.map((e: { type: string }) => e.type.replace('io.hodei.lifecycle.', '')),
    ).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
      'WorkerEphemeralTerminated',
      'WorkerEphemeralCleanedUp',
    ]);
    const one = await hodei(
      'events',
      '--worker',
      'wait-1',
      '-o',
      'json',
      '--type',
      'WorkerEphemeralTerminated',
    );
    expect(JSON.parse(one.stdout).events).toMatchObject([{ data: { exitCode: 0 } }]);
    const table = await hodei('events', '--worker', 'wait-1');
    expect(table.stdout).toMatch(/^AGE +TYPE +WORKER +DETAILS\n/);
    expect(table.stdout).toMatch(/WorkerEphemeralCleanedUp +wait-1 +cleanupReason=TtlExpired/);
    // Once it is gone, every condition it went through holds at once.
    expect((await hodei('workers', 'wait', 'wait-1', '--for=terminated', '-q')).code).toBe(0);
  });

  it('gives up after --timeout, and fails for a worker that does not exist', async () => {
    await create('wait-2', 'sleep 600');
    const late = await hodei('workers', 'wait', 'wait-2', '--for=cleaned', '--timeout', '1s');
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(
      /timed out after 1s waiting for worker wait-2 to be cleaned \(it is \w+\)/,
    );
    const ghost = await hodei('workers', 'wait', 'ghost', '--for=ready');
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toContain('worker ghost not found');
  });
});

describe('hodei events -f', () => {
  const follow = (...args: string[]) =>
    startHodei(['events', '-f', ...args, '--url', t.url], {
      HODEI_API_TOKEN: TEST_TOKEN,
      NO_COLOR: '1',
    });

  it("prints a worker's history, then its events as they happen, each once", async () => {
    await create('ev-1', 'sleep 2', { ttlAfterCompletionSeconds: 0 });
    await until('ev-1', 'busy');
    const child = follow('--worker', 'ev-1', '-o', 'json');
    try {
      await child.waitForOutput('WorkerEphemeralCleanedUp');
    } finally {
      await child.stop();
    }
    const events = child
      .stdout()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.type.replace('io.hodei.lifecycle.', ''))).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
      'WorkerEphemeralTerminated',
      'WorkerEphemeralCleanedUp',
    ]);
    expect(events.every((e) => e.subject === 'ev-1')).toBe(true);
  });

  it('streams the live events of the types asked for as a table', async () => {
    const child = follow('--type', 'WorkerEphemeralReady,io.hodei.lifecycle.WorkerEphemeralBusy');
    try {
      // The header comes once the stream is open.
      await child.waitForOutput('TIME');
      await create('ev-2', 'sleep 600');
      await child.waitForOutput('WorkerEphemeralBusy');
    } finally {
      await child.stop();
    }
    const [header, ...rows] = child.stdout().trimEnd().split('\n');
    expect(header).toMatch(/^TIME {23}TYPE {25}WORKER {17}DETAILS$/);
    expect(rows.filter((r) => r.includes(' ev-2'))).toEqual([
      // The DETAILS column says who gave the activity (the watch or a reconciliation).
      expect.stringMatching(/^\S+Z {3}WorkerEphemeralReady {9}ev-2 +by=\w+$/),
      expect.stringMatching(/^\S+Z {3}WorkerEphemeralBusy {10}ev-2 +by=\w+$/),
    ]);
  });
});

describe('hodei logs', () => {
  it('prints the last lines with --tail, all of them by default, and follows with -f', async () => {
    await create('logs-1', 'echo a; echo b; echo c; sleep 600');
    await until('logs-1', 'busy');
    await eventually(
      () => t.api('GET', '/v1/workers/logs-1/logs'),
      (r) => r.body === 'a\nb\nc\n',
    );
    expect(await hodei('logs', 'logs-1', '--tail', '1')).toMatchObject({ code: 0, stdout: 'c\n' });
    expect(await hodei('workers', 'logs', 'logs-1')).toMatchObject({
      code: 0,
      stdout: 'a\nb\nc\n',
    });
    await create('logs-2', 'echo x; sleep 1; echo y');
    await until('logs-2', 'busy');
    expect(await hodei('logs', 'logs-2', '-f')).toMatchObject({ code: 0, stdout: 'x\ny\n' });
  });
});

describe('hodei workers rm and gc', () => {
  it('removes a worker, showing its events while it waits', async () => {
    await create('rm-1', 'sleep 600');
    await until('rm-1', 'busy');
    const rm = await hodei('workers', 'rm', 'rm-1', '--wait');
    expect(rm).toMatchObject({ code: 0, stdout: 'worker rm-1 removed\n' });
    expect(rm.stderr).toContain('hodei: worker rm-1: terminating (ManualTermination)');
    expect((await t.api('GET', '/v1/workers/rm-1')).status).toBe(404);
  });

  it('runs the passes and shows what they did per provider', async () => {
    const gc = await hodei('gc');
    expect(gc.stdout).toMatch(
      /^PROVIDER {3}CLEANED {3}ORPHANS {3}ERRORS {3}DURATION\nk8s-stub {3}\d+/,
    );
    const json = await hodei('gc', '-o', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      workersCleaned: expect.any(Number),
      byProvider: { 'k8s-stub': expect.any(Object) },
    });
  });

  it('shows the counts by state and the reap lag of the window the server answers', async () => {
    const run = await hodei('stats', '--window', '10m');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [workers, deadlines] = run.stdout.split('\n\n');
    expect(workers).toMatch(/^PROVIDER {3}TOTAL {3}CREATING .* FAILED\n\(all\) +\d+ /);
    expect(workers).toMatch(/^k8s-stub +\d+ /m);
    const lines = (deadlines ?? '').trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'Last 10m, in seconds:',
      expect.stringMatching(/^SERIES +COUNT {3}P50 +P90 +P99 +MAX$/),
    ]);
    const series = ['lifetime', 'idle', 'startup', 'forceRemove', 'ttl'].map(
      (r) => `reap lag: ${r}`,
    );
    expect(lines.slice(2).map((l) => l.split(/ {3,}/)[0])).toEqual([...series, 'idle tail']);
    for (const line of lines.slice(2))
      expect(line).toMatch(/ (0( {3,}-){4}|[1-9]\d*( {3,}\d+(\.\d+)?){4})$/);

    const json = JSON.parse((await hodei('stats', '-o', 'json', '--window', '90s')).stdout);
    expect(json).toMatchObject({
      workers: { total: expect.any(Number), providers: [{ id: 'k8s-stub', lifecycle: true }] },
      deadlines: { windowSeconds: 90, reapLag: { lifetime: { count: expect.any(Number) } } },
    });
  });
});

describe('what goes wrong', () => {
  it('names an unreachable server and suggests hodei doctor', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await runHodei(['workers', 'ls', '--url', url], { HODEI_API_TOKEN: TEST_TOKEN });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`hodei: cannot reach the hodei server at ${url} (ECONNREFUSED)`);
    expect(run.stderr).toContain("'hodei doctor'");
  });

  it('says where a refused token was read from', async () => {
    const run = await runHodei(['workers', 'ls', '--url', t.url], {
      HODEI_API_TOKEN: 'wrong-token-wrong-token',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `the server at ${t.url} refused the API token (HTTP 401 Unauthorized)`,
    );
    expect(run.stderr).toContain('the token was read from HODEI_API_TOKEN');
  });

  it('exits 2 on usage errors, before any request', async () => {
    for (const args of [
      ['frobnicate'],
      ['workers', 'ls', '--bogus'],
      ['workers', 'rm'],
      ['workers', 'wait', 'x', '--for=gone'],
    ]) {
      const run = await runHodei(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^hodei: /);
    }
  });
});
