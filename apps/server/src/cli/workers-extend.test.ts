import { spawnSync } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createContext, type CliDeps } from './cli-context.js';
import type { ServerResponse } from 'node:http';
import { bashCompletion } from './completion.js';
import { eventDetails } from './event-format.js';
import {
  cliRun,
  sendJson,
  startFakeApi,
  workerJson,
  type FakeApi,
  type FakeRoute,
} from './fake-api.testing.js';
import { buildProgram } from './program.js';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const serve = async (routes: Record<string, FakeRoute>): Promise<string> => {
  api = await startFakeApi(routes);
  return api.url;
};

const bodyOf = (req: IncomingMessage): Promise<unknown> =>
  new Promise((resolve) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => resolve(text === '' ? undefined : JSON.parse(text)));
  });

/** A policy change's answer, its Hodei-Policy-Changed naming `changed`. */
const sendChange = (res: ServerResponse, body: unknown, changed: readonly string[]) => {
  res.writeHead(200, {
    'content-type': 'application/json',
    'hodei-policy-changed': changed.join(','),
  });
  res.end(JSON.stringify(body));
};

const MINUTE = 60_000;
const isoIn = (ms: number) => new Date(Date.now() + ms).toISOString();

/** A ready agent as the server answers it, its deadlines `lifetimeIn` and `idleIn` from now. */
const agentJson = (id: string, lifetimeIn: number, idleIn: number, maxLifetimeSeconds = 3600) => ({
  ...workerJson(id, 'ready'),
  mode: 'agent',
  policy: {
    maxLifetimeSeconds,
    ttlAfterCompletionSeconds: 300,
    idleTimeoutSeconds: 600,
    gracefulTerminationTimeoutSeconds: 10,
    startupTimeoutSeconds: 60,
    expiryWarningSeconds: 60,
  },
  lastActivity: { at: isoIn(-2 * MINUTE), by: 'dispatcher-7' },
  deadlines: {
    lifetimeAt: isoIn(lifetimeIn),
    idleAt: isoIn(idleIn),
    startupAt: null,
    forceRemoveAt: null,
    cleanupAt: null,
    expiryWarningAt: isoIn(idleIn - MINUTE),
    next:
      idleIn < lifetimeIn
        ? { rule: 'idle', at: isoIn(idleIn) }
        : { rule: 'lifetime', at: isoIn(lifetimeIn) },
  },
});

describe('hodei workers extend', () => {
  it('sends the fields given as the policy change and prints the next deadline', async () => {
    const bodies: unknown[] = [];
    const url = await serve({
      'PATCH /v1/workers/w1/policy': (req, res) =>
        void bodyOf(req).then((b) => {
          bodies.push(b);
          sendChange(res, agentJson('w1', 2 * 60 * MINUTE + 30_000, 200 * MINUTE), [
            'maxLifetimeSeconds',
            'idleTimeoutSeconds',
          ]);
        }),
    });
    const run = await cliRun([
      'workers',
      'extend',
      'w1',
      '--lifetime',
      '2h',
      '--idle',
      '10m',
      '--ttl',
      'none',
      '--expiry-warning',
      '30s',
      '--grace',
      '5',
      '--startup',
      '1m',
      '--url',
      url,
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(bodies).toEqual([
      {
        maxLifetimeSeconds: 7200,
        idleTimeoutSeconds: 600,
        ttlAfterCompletionSeconds: null,
        expiryWarningSeconds: 30,
        gracefulTerminationTimeoutSeconds: 5,
        startupTimeoutSeconds: 60,
      },
    ]);
    expect(run.stdout).toMatch(
      /^worker w1 changed maxLifetimeSeconds, idleTimeoutSeconds; next: lifetime \(LifetimeExceeded\) at \S+Z \(in 2h\)\n$/,
    );
  });

  it('--add asks the server to extend the lifetime it has then, in one request', async () => {
    const bodies: unknown[] = [];
    const url = await serve({
      'PATCH /v1/workers/w1/policy': (req, res) =>
        void bodyOf(req).then((b) => {
          bodies.push(b);
          sendChange(res, agentJson('w1', 40 * MINUTE, 5 * MINUTE, 3600), ['maxLifetimeSeconds']);
        }),
    });
    const run = await cliRun(['workers', 'extend', 'w1', '--add', '30m', '--url', url]);
    expect(run.code).toBe(0);
    expect(api?.requests.map((r) => r.route)).toEqual(['PATCH /v1/workers/w1/policy']);
    expect(bodies).toEqual([{ extendLifetimeBySeconds: 1800 }]);
    expect(run.stdout).toMatch(
      /^worker w1 changed maxLifetimeSeconds \(maxLifetime 3600s\); next: idle \(IdleTimeout\)/,
    );
  });

  it('says "no change" when the server changed nothing', async () => {
    const url = await serve({
      'PATCH /v1/workers/w1/policy': (_req, res) =>
        sendChange(res, agentJson('w1', 60 * MINUTE, 5 * MINUTE), []),
    });
    const run = await cliRun(['workers', 'extend', 'w1', '--lifetime', '1h', '--url', url]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^worker w1: no change; next: idle \(IdleTimeout\)/);
  });

  it('prints the JSON the API answers with -o json', async () => {
    const answer = agentJson('w1', 10 * MINUTE, 5 * MINUTE);
    const url = await serve({
      'PATCH /v1/workers/w1/policy': (_req, res) => sendJson(res, 200, answer),
    });
    const run = await cliRun([
      'workers',
      'extend',
      'w1',
      '--idle',
      '1h',
      '-o',
      'json',
      '--url',
      url,
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(answer);
  });

  it("fails with the server's reason, naming the cap", async () => {
    const url = await serve({
      'PATCH /v1/workers/w1/policy': (_req, res) =>
        sendJson(res, 400, {
          error: 'PolicyLimitExceeded',
          message:
            "policy.maxLifetimeSeconds: 90000 s is above the operator's cap HODEI_MAX_LIFETIME_SECONDS=86400",
        }),
    });
    const run = await cliRun(['workers', 'extend', 'w1', '--lifetime', '25h', '--url', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('HODEI_MAX_LIFETIME_SECONDS=86400');
  });

  it('refuses --add with --lifetime, no change at all, and a bad duration, as usage errors', async () => {
    const url = await serve({});
    for (const args of [
      ['--add', '1m', '--lifetime', '1h'],
      [],
      ['--lifetime', 'soon'],
      ['--add', '0'],
      ['--lifetime', '0'],
      ['--ttl', '1.5s'],
    ]) {
      const run = await cliRun(['workers', 'extend', 'w1', ...args, '--url', url]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/^hodei: /);
    }
    expect(api?.requests).toEqual([]);
  });
});

describe('hodei workers heartbeat', () => {
  it('posts who touched the worker and prints its next deadline', async () => {
    const bodies: unknown[] = [];
    const url = await serve({
      'POST /v1/workers/w1/heartbeat': (req, res) =>
        void bodyOf(req).then((b) => {
          bodies.push(b);
          sendJson(res, 200, agentJson('w1', 60 * MINUTE, 10 * MINUTE + 30_000));
        }),
    });
    const by = await cliRun(['workers', 'heartbeat', 'w1', '--by', 'dispatcher-7', '--url', url]);
    expect(by).toMatchObject({ code: 0, stderr: '' });
    expect(by.stdout).toMatch(
      /^worker w1 touched by dispatcher-7; next: idle \(IdleTimeout\) at \S+Z \(in 10m\)\n$/,
    );
    const plain = await cliRun(['workers', 'heartbeat', 'w1', '-q', '--url', url]);
    expect(plain).toMatchObject({ code: 0, stdout: '' });
    expect(bodies).toEqual([{ by: 'dispatcher-7' }, {}]);
  });

  it('fails for a worker that is not live, and refuses a --by the server would', async () => {
    const url = await serve({
      'POST /v1/workers/w1/heartbeat': (_req, res) =>
        sendJson(res, 409, {
          error: 'WorkerNotLive',
          message: 'worker w1 is terminated: only a live worker takes heartbeats',
        }),
    });
    const run = await cliRun(['workers', 'heartbeat', 'w1', '--url', url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('worker w1 is terminated');
    const bad = await cliRun(['workers', 'heartbeat', 'w1', '--by', 'x'.repeat(129), '--url', url]);
    expect(bad.code).toBe(2);
    const blank = await cliRun(['workers', 'heartbeat', 'w1', '--by', '  ', '--url', url]);
    expect(blank.code).toBe(2);
  });
});

describe('hodei workers inspect -o wide', () => {
  it('shows each deadline with its time and how far it is, the next rule and the last activity', async () => {
    const w = agentJson('w1', 60 * MINUTE + 30_000, 4 * MINUTE + 30_000);
    const url = await serve({
      'GET /v1/workers/w1': (_req, res) => sendJson(res, 200, w),
      'GET /v1/workers/w1/events': (_req, res) =>
        sendJson(res, 200, { workerId: 'w1', events: [] }),
    });
    const run = await cliRun(['workers', 'inspect', 'w1', '-o', 'wide', '--url', url]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    const line = (prefix: string) => lines.find((l) => l.startsWith(prefix)) ?? '';
    const at = (iso: string | null) => (iso ?? '').replaceAll('.', '\\.');
    expect(lines).toContain('Deadlines:');
    expect(line('  lifetime:')).toMatch(
      new RegExp(`^  lifetime: +${at(w.deadlines.lifetimeAt)} \\(in 1h\\)$`),
    );
    expect(line('  idle:')).toMatch(
      new RegExp(`^  idle: +${at(w.deadlines.idleAt)} \\(in 4m(29|30)s\\)$`),
    );
    expect(line('  expiry warning:')).toMatch(/ \(in 3m(29|30)s\)$/);
    expect(line('  startup:') + line('  cleanup:') + line('  force remove:')).toBe('');
    expect(line('Next:')).toMatch(
      new RegExp(`^Next: idle \\(IdleTimeout\\) at ${at(w.deadlines.idleAt)} \\(in 4m(29|30)s\\)$`),
    );
    expect(line('Last activity:')).toMatch(
      new RegExp(`^Last activity: ${at(w.lastActivity.at)} \\(2m0?s? ago\\) by dispatcher-7$`),
    );
  });
});

describe('hodei workers run --expiry-warning', () => {
  it('asks for the warning as the policy field expiryWarningSeconds', async () => {
    const bodies: unknown[] = [];
    const url = await serve({
      'POST /v1/workers': (req, res) =>
        void bodyOf(req).then((b) => {
          bodies.push(b);
          sendJson(res, 201, workerJson('w1', 'creating'));
        }),
    });
    const run = await cliRun([
      'workers',
      'run',
      '--expiry-warning',
      '2m',
      '--url',
      url,
      '--',
      'true',
    ]);
    expect(run).toMatchObject({ code: 0, stdout: 'w1\n' });
    expect(bodies).toEqual([{ command: ['true'], policy: { expiryWarningSeconds: 120 } }]);
  });
});

describe('completion', () => {
  it('offers extend and heartbeat, their options, and worker ids after them', () => {
    const never = () => Promise.reject(new Error('not in this test'));
    const deps: CliDeps = { serve: never, dockerHello: never, doctor: never };
    const io = {
      out: () => undefined,
      err: () => undefined,
      env: {},
      stdoutColour: false,
      stderrColour: false,
    };
    const script = bashCompletion(buildProgram(createContext(io, deps, [])).program);
    const complete = (words: string[]) => {
      const run = spawnSync(
        'bash',
        [
          '--norc',
          '--noprofile',
          '-c',
          `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}\n_hodei; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } },
      );
      return run.stdout.split('\n').filter((l) => l !== '');
    };
    expect(complete(['hodei', 'workers', ''])).toEqual(
      expect.arrayContaining(['extend', 'heartbeat']),
    );
    expect(complete(['hodei', 'workers', 'extend', '--'])).toEqual(
      expect.arrayContaining([
        '--lifetime',
        '--add',
        '--idle',
        '--ttl',
        '--expiry-warning',
        '--grace',
        '--startup',
      ]),
    );
    expect(complete(['hodei', 'workers', 'heartbeat', '--'])).toContain('--by');
    expect(complete(['hodei', 'workers', 'extend', 'w1', '--ttl', ''])).toEqual(['none']);
    expect(complete(['hodei', 'workers', 'run', '--exp'])).toEqual(['--expiry-warning']);
    expect(script).toMatch(/'\/workers\/extend'\) words='[^']*'; ids='workers'/);
  });
});

describe('hodei events: the details of an event', () => {
  it('shows who a ready or busy event’s activity was by, and a later event’s whole activity', () => {
    const event = (type: string, data: Record<string, unknown>) => ({
      specversion: '1.0',
      id: 'e1',
      type: `io.hodei.lifecycle.${type}`,
      source: '/hodei/providers/p',
      time: '2026-01-01T00:00:00.000Z',
      datacontenttype: 'application/json',
      data,
    });
    const activity = { at: '2026-01-01T00:00:00.000Z', by: 'dispatcher-7' };
    expect(
      eventDetails(event('WorkerEphemeralReady', { workerId: 'w1', lastActivity: activity })),
    ).toBe('workerId=w1 by=dispatcher-7');
    expect(
      eventDetails(
        event('WorkerEphemeralTerminating', { reason: 'IdleTimeout', lastActivity: activity }),
      ),
    ).toBe(`reason=IdleTimeout lastActivity=${JSON.stringify(activity)}`);
  });
});
