import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeadLetterJson, WebhookJson } from './api-types.js';
import { createContext, type CliDeps } from './cli-context.js';
import { bashCompletion } from './completion.js';
import {
  cliRun,
  sendJson,
  startFakeApi,
  type FakeApi,
  type FakeRoute,
} from './fake-api.testing.js';
import { buildProgram } from './program.js';
import { fromArgument, secretProblem } from './webhook-arguments.js';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** Bodies the fake API received, by route, in order. */
let bodies: Record<string, unknown[]> = {};
afterEach(() => {
  bodies = {};
});

const readBody = async (req: IncomingMessage): Promise<unknown> => {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text === '' ? undefined : JSON.parse(text);
};

/** A route that records the JSON body it received, then answers `status` and `body`. */
const answer =
  (status: number, body?: unknown): FakeRoute =>
  (req, res) => {
    void readBody(req).then((received) => {
      const route = `${req.method} ${req.url?.split('?')[0]}`;
      (bodies[route] ??= []).push(received);
      if (body === undefined) {
        res.writeHead(status);
        res.end();
      } else sendJson(res, status, body);
    });
  };

/** `hodei webhooks args… --url <fake API>`. */
const webhooks = async (routes: Record<string, FakeRoute>, ...args: string[]) => {
  api ??= await startFakeApi(routes);
  return cliRun(['webhooks', ...args, '--url', api.url]);
};

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

const webhook = (id: string, over: Partial<WebhookJson['delivery']> = {}): WebhookJson => ({
  id,
  url: `http://127.0.0.1:9000/${id}`,
  types: null,
  createdAt: '2026-12-01T00:00:00.000Z',
  delivery: {
    cursor: 'c1.MDow',
    delivered: 0,
    failures: 0,
    deadLettered: 0,
    lastDeliveredAt: null,
    lastError: null,
    active: true,
    ...over,
  },
});

const deadLetter = (eventId: string): DeadLetterJson => ({
  eventId,
  type: 'io.hodei.lifecycle.WorkerEphemeralFailed',
  workerId: 'w1',
  cursor: 'c1.MTI6MzQ',
  attempts: 8,
  lastError: 'HTTP 500',
  firstFailedAt: '2026-12-01T00:01:00.000Z',
  deadLetteredAt: '2026-12-01T00:10:00.000Z',
});

const notFound = answer(404, { error: 'WebhookNotFound', message: 'webhook nope not found' });

describe('hodei webhooks help', () => {
  it('lists the subcommands, and is a usage error without one', async () => {
    const help = await cliRun(['webhooks', '--help']);
    expect(help.code).toBe(0);
    for (const sub of [
      'add [options] <url>',
      'ls|list',
      'inspect',
      'rm|delete',
      'replay',
      'dead-letters',
    ])
      expect(help.stdout).toContain(sub);
    expect((await cliRun(['--help'])).stdout).toMatch(/webhooks +send lifecycle events to HTTP/);
    const bare = await cliRun(['webhooks']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: hodei webhooks');
  });

  it('suggests --secret-file over --secret in the help of add', async () => {
    const help = await cliRun(['webhooks', 'add', '--help']);
    expect(help.stdout).toContain('--secret-file <path>');
    expect(help.stdout).toMatch(
      /--secret <secret>\s+the signing secret on the command line: visible to\s+other local users/,
    );
    expect(help.stdout).toContain('--secret-file -');
  });

  it.each([['add'], ['ls'], ['inspect'], ['replay'], ['dead-letters']])(
    'webhooks %s takes -o json and --url',
    async (sub) => {
      const run = await cliRun(['webhooks', sub, '--help']);
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain('-o, --output <format>');
      expect(run.stdout).toContain('--url <url>');
    },
  );
});

describe('hodei webhooks add', () => {
  it('creates the webhook with its types and secret, prints the id and the secret once', async () => {
    const created = { ...webhook('wh_1'), types: ['WorkerEphemeralFailed'], secret: SECRET };
    const run = await webhooks(
      { 'POST /v1/webhooks': answer(201, created) },
      'add',
      'http://127.0.0.1:9000/wh_1',
      '--type',
      'WorkerEphemeralFailed',
      '--type',
      'io.hodei.lifecycle.WorkerEphemeralTerminated,WorkerLost',
      '--secret',
      SECRET,
    );
    expect(run.code).toBe(0);
    expect(bodies['POST /v1/webhooks']).toEqual([
      {
        url: 'http://127.0.0.1:9000/wh_1',
        types: ['WorkerEphemeralFailed', 'WorkerEphemeralTerminated', 'WorkerLost'],
        secret: SECRET,
      },
    ]);
    expect(run.stdout).toBe(
      `webhook wh_1 created for http://127.0.0.1:9000/wh_1\nsecret: ${SECRET}\n`,
    );
    expect(run.stderr).toContain('the secret is not shown again');
    expect(run.stderr).toContain(
      'warning: --secret is visible to other local users (ps, /proc): prefer --secret-file PATH',
    );
  });

  it('reads the secret from --secret-file, without the warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hodei-secret-'));
    try {
      const file = join(dir, 'secret');
      await writeFile(file, `${SECRET}\n`, { mode: 0o600 });
      const created = { ...webhook('wh_f'), secret: SECRET };
      const run = await webhooks(
        { 'POST /v1/webhooks': answer(201, created) },
        'add',
        'http://127.0.0.1:9000/wh_f',
        '--secret-file',
        file,
        '-q',
      );
      expect(run).toMatchObject({ code: 0, stdout: 'wh_f\n', stderr: '' });
      expect(bodies['POST /v1/webhooks']).toEqual([
        { url: 'http://127.0.0.1:9000/wh_f', secret: SECRET },
      ]);
      const missing = await webhooks(
        {},
        'add',
        'http://127.0.0.1:9000/',
        '--secret-file',
        join(dir, 'nope'),
      );
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--secret-file');
      await writeFile(file, 'whsec_c2hvcnQ=\n');
      const bad = await webhooks({}, 'add', 'http://127.0.0.1:9000/', '--secret-file', file);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--secret-file must be whsec_ and 24 to 64 bytes');
      expect(bad.stderr).not.toContain('--secret must');
      expect(bad.stderr).not.toContain('c2hvcnQ');
      const both = await webhooks(
        {},
        'add',
        'http://127.0.0.1:9000/',
        '--secret-file',
        file,
        '--secret',
        SECRET,
      );
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('--secret or --secret-file, not both');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads the secret from stdin with --secret-file -', async () => {
    const created = { ...webhook('wh_s'), secret: SECRET };
    api = await startFakeApi({ 'POST /v1/webhooks': answer(201, created) });
    const entry = fileURLToPath(new URL('../cli.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        entry,
        'webhooks',
        'add',
        'http://127.0.0.1:9000/wh_s',
        '--secret-file',
        '-',
        '-q',
        '--url',
        api.url,
      ],
      { env: { ...process.env, HODEI_API_TOKEN: 'fake-token-0000000000', NO_COLOR: '1' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdin.end(`${SECRET}\n`);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'wh_s\n', stderr: '' });
    expect(bodies['POST /v1/webhooks']).toEqual([
      { url: 'http://127.0.0.1:9000/wh_s', secret: SECRET },
    ]);
  });

  it('sends neither types nor secret when none are given; -q prints only the id', async () => {
    const created = { ...webhook('wh_2'), secret: SECRET };
    const run = await webhooks(
      { 'POST /v1/webhooks': answer(201, created) },
      'add',
      'https://hooks.example.com/x',
      '-q',
    );
    expect(run).toMatchObject({ code: 0, stdout: 'wh_2\n' });
    expect(run.stderr).toContain('the generated secret is not printed with -q');
    expect(bodies['POST /v1/webhooks']).toEqual([{ url: 'https://hooks.example.com/x' }]);
  });

  it("prints the API's answer with -o json, secret included", async () => {
    const created = { ...webhook('wh_3'), secret: SECRET };
    const run = await webhooks(
      { 'POST /v1/webhooks': answer(201, created) },
      'add',
      'http://127.0.0.1:9000/',
      '-o',
      'json',
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toEqual(created);
  });

  it('prints the 400 of a URL outside the allowlist with its message, exit 1', async () => {
    const run = await webhooks(
      {
        // As the server answers it: the message, and the field in `problems`.
        'POST /v1/webhooks': answer(400, {
          error: 'WebhookUrlNotAllowed',
          message: 'http://10.0.0.1/ matches no allowed prefix (HODEI_WEBHOOK_ALLOWED_URLS)',
          problems: [
            {
              path: 'body.url',
              message: 'http://10.0.0.1/ matches no allowed prefix (HODEI_WEBHOOK_ALLOWED_URLS)',
            },
          ],
        }),
      },
      'add',
      'http://10.0.0.1/',
    );
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain(
      'HTTP 400 WebhookUrlNotAllowed:\n  - body.url: http://10.0.0.1/ matches no allowed prefix (HODEI_WEBHOOK_ALLOWED_URLS)',
    );
  });

  it('says to start the server with DATABASE_URL on a 409 WebhooksNeedDatabase, exit 1', async () => {
    const run = await webhooks(
      {
        'POST /v1/webhooks': answer(409, {
          error: 'WebhooksNeedDatabase',
          message: 'webhooks are stored in PostgreSQL: set DATABASE_URL',
        }),
      },
      'add',
      'http://127.0.0.1:9000/',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'HTTP 409 WebhooksNeedDatabase: webhooks are stored in PostgreSQL',
    );
    expect(run.stderr).toContain('restart the server with DATABASE_URL set');
  });

  it.each([
    [['add', 'hooks.example.com/x'], '"hooks.example.com/x" is not a webhook URL'],
    [['add', 'ftp://hooks.example.com/'], 'is not a webhook URL'],
    [['add'], "missing required argument 'url'"],
    [['add', 'http://127.0.0.1:9000/', '--type', 'Nope'], 'unknown event type "Nope"'],
    [['add', 'http://127.0.0.1:9000/', '--secret', 'hunter2'], '--secret must be whsec_'],
    [['replay', 'wh_1'], "required option '--from <cursor|event-id|time>' not specified"],
    [['replay', 'wh_1', '--from', '30'], '"30" has no unit'],
    [['replay', 'wh_1', '--from', '2026-13-45'], '"2026-13-45" is not a date'],
    [['replay', 'wh_1', '--from', '2025-02-30'], '"2025-02-30" is not a date'],
    [['replay', 'wh_1', '--from', '2025-02-30T00:00:00Z'], '"2025-02-30T00:00:00Z" is not a date'],
    [['replay', 'wh_1', '--from', '2026-11-01T24:00:00Z'], 'is not a date'],
    [
      ['replay', 'wh_1', '--from', '2026-11-01T12:00:00'],
      'has no time zone: add Z (UTC) or an offset',
    ],
    [['rm'], "missing required argument 'id'"],
    [['add', 'http://127.0.0.1:9000/', '-o', 'wide'], 'Allowed choices are json.'],
    [['dead-letters', 'wh_1', '-o', 'yaml'], 'Allowed choices are json, wide.'],
    [['frob'], "unknown command 'frob'"],
  ])('%j is a usage error: exit 2, nothing sent', async (args, message) => {
    const run = await webhooks({}, ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
    expect(api?.requests).toEqual([]);
  });

  it('says how to make room on a 409 WebhookLimitReached, exit 1', async () => {
    const run = await webhooks(
      {
        'POST /v1/webhooks': answer(409, {
          error: 'WebhookLimitReached',
          message:
            'there are already 100 webhooks, the most allowed: delete one first (HODEI_WEBHOOK_MAX)',
        }),
      },
      'add',
      'http://127.0.0.1:9000/',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('HTTP 409 WebhookLimitReached: there are already 100 webhooks');
    expect(run.stderr).toContain("'hodei webhooks rm ID' removes one");
  });

  it('never repeats a rejected secret', async () => {
    const run = await webhooks({}, 'add', 'http://127.0.0.1:9000/', '--secret', 'whsec_c2hvcnQ=');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--secret must be whsec_ and 24 to 64 bytes in base64');
    expect(run.stderr).toContain("(see 'hodei webhooks add --help')");
    expect(run.stderr).not.toContain('c2hvcnQ');
    expect(api?.requests).toEqual([]);
  });
});

describe('hodei webhooks ls', () => {
  const listed = {
    items: [
      webhook('wh_1', {
        delivered: 12,
        failures: 1,
        deadLettered: 2,
        cursor: 'c1.MTI6MzQ',
        lastDeliveredAt: '2026-12-01T00:00:00.000Z',
        lastError: 'HTTP 503 from receiver',
      }),
      { ...webhook('wh_22'), types: ['io.hodei.lifecycle.WorkerEphemeralFailed', 'WorkerLost'] },
    ],
  };
  const routes = { 'GET /v1/webhooks': answer(200, listed) };

  it('lists the webhooks as a table with their delivery counts', async () => {
    const run = await webhooks(routes, 'ls');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [header, first, second, ...rest] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(
      /^ID {6}URL {27}TYPES {30}DELIVERED {3}FAILURES {3}DEAD LETTERS {3}LAST DELIVERED$/,
    );
    expect(first).toMatch(
      /^wh_1 {4}http:\/\/127\.0\.0\.1:9000\/wh_1 +all +12 +1 +2 +\d+[smhdy]\S*$/,
    );
    expect(second).toMatch(
      /^wh_22 {3}http:\/\/127\.0\.0\.1:9000\/wh_22 {3}WorkerEphemeralFailed,WorkerLost {3}0 +0 +0 +-$/,
    );
    expect(rest).toEqual([]);
  });

  it('adds whether it delivers, its cursor, age and last error with -o wide', async () => {
    const run = await webhooks(routes, 'ls', '-o', 'wide');
    expect(run.stdout).toMatch(/ACTIVE {3}CURSOR +AGE +LAST ERROR\n/);
    expect(run.stdout).toMatch(/ yes {6}c1\.MTI6MzQ +\d\S* +HTTP 503 from receiver\n/);
  });

  it("prints the API's JSON with -o json and the ids with -q", async () => {
    const json = await webhooks(routes, 'list', '-o', 'json');
    expect(JSON.parse(json.stdout)).toEqual(listed);
    const ids = await webhooks(routes, 'ls', '-q');
    expect(ids).toMatchObject({ code: 0, stdout: 'wh_1\nwh_22\n' });
  });

  it('says so on stderr when there are none, stdout empty', async () => {
    const run = await webhooks({ 'GET /v1/webhooks': answer(200, { items: [] }) }, 'ls');
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toContain('no webhooks');
  });

  it('fails with the message of a server without the webhook API', async () => {
    const run = await webhooks({}, 'ls');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('HTTP 404 NotFound: GET /v1/webhooks');
    expect(run.stderr).toContain('this server has no webhook API');
  });
});

describe('hodei webhooks inspect', () => {
  const delivered = webhook('wh_1', {
    delivered: 3,
    failures: 4,
    deadLettered: 1,
    cursor: 'c1.MTI6MzQ',
    lastDeliveredAt: '2026-12-01T00:00:00.000Z',
    lastError: 'connect ECONNREFUSED',
    active: false,
  });
  const routes = {
    'GET /v1/webhooks/wh_1': answer(200, delivered),
    'GET /v1/webhooks/wh_1/dead-letters': answer(200, { items: [deadLetter('e-9')] }),
    'GET /v1/webhooks/nope': notFound,
  };

  it('describes the webhook and all its delivery state', async () => {
    const run = await webhooks(routes, 'inspect', 'wh_1');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^ID: +wh_1$/m);
    expect(run.stdout).toMatch(/^Types: +all$/m);
    expect(run.stdout).toMatch(/^Delivery:\n {2}Active: +no$/m);
    for (const line of [
      /^ {2}Cursor: +c1\.MTI6MzQ$/m,
      /^ {2}Delivered: +3$/m,
      /^ {2}Last delivered: +2026-12-01T00:00:00\.000Z \(\d\S* ago\)$/m,
      /^ {2}Failures: +4$/m,
      /^ {2}Dead letters: +1$/m,
      /^ {2}Last error: +connect ECONNREFUSED$/m,
    ])
      expect(run.stdout).toMatch(line);
    expect(run.stdout).not.toContain('Dead letters:\n');
  });

  it('adds its dead letters with -o wide', async () => {
    const run = await webhooks(routes, 'inspect', 'wh_1', '-o', 'wide');
    expect(run.stdout).toMatch(/\nDead letters:\n {2}EVENT {3}TYPE +WORKER +ATTEMPTS/);
    expect(run.stdout).toMatch(
      /\n {2}e-9 {5}WorkerEphemeralFailed {3}w1 +8 +\d\S* +2026-12-01T00:01:00\.000Z {3}2026-12-01T00:10:00\.000Z {3}c1\.MTI6MzQ {3}HTTP 500\n$/,
    );
  });

  it("prints the API's JSON with -o json, the id with -q", async () => {
    expect(JSON.parse((await webhooks(routes, 'inspect', 'wh_1', '-o', 'json')).stdout)).toEqual(
      delivered,
    );
    expect((await webhooks(routes, 'inspect', 'wh_1', '-q')).stdout).toBe('wh_1\n');
  });

  it('fails on a webhook the server does not have, pointing at ls', async () => {
    const run = await webhooks(routes, 'inspect', 'nope', '-q');
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain('HTTP 404 WebhookNotFound: webhook nope not found');
    expect(run.stderr).toContain("'hodei webhooks ls' lists the webhooks");
  });
  it('points at ls when the server refuses the id as no webhook id', async () => {
    const run = await webhooks(
      {
        'GET /v1/webhooks/nope': answer(400, {
          error: 'ValidationFailed',
          message: 'invalid request',
          problems: [{ path: 'params.id', message: 'must match pattern "^[0-9a-f]{8}-"' }],
        }),
      },
      'inspect',
      'nope',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('  - params.id: must match pattern');
    expect(run.stderr).toContain("that is no webhook id: 'hodei webhooks ls' lists the webhooks");
  });
});

describe('hodei webhooks rm', () => {
  const routes = {
    'DELETE /v1/webhooks/wh_1': answer(204),
    'DELETE /v1/webhooks/nope': notFound,
  };

  it('removes the webhook and says so; -q says nothing', async () => {
    expect(await webhooks(routes, 'rm', 'wh_1')).toMatchObject({
      code: 0,
      stdout: 'webhook wh_1 removed\n',
      stderr: '',
    });
    expect(await webhooks(routes, 'delete', 'wh_1', '-q')).toMatchObject({ code: 0, stdout: '' });
    expect(api?.requests.map((r) => r.route)).toEqual([
      'DELETE /v1/webhooks/wh_1',
      'DELETE /v1/webhooks/wh_1',
    ]);
  });

  it('fails on a webhook the server does not have, exit 1', async () => {
    const run = await webhooks(routes, 'rm', 'nope');
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain('HTTP 404 WebhookNotFound');
  });
});

describe('hodei webhooks replay', () => {
  const routes = {
    'POST /v1/webhooks/wh_1/replay': answer(202, webhook('wh_1', { cursor: 'c1.MToy' })),
    'POST /v1/webhooks/nope/replay': notFound,
  };
  const sentFrom = () =>
    (bodies['POST /v1/webhooks/wh_1/replay'] ?? []).map((b) => (b as { from: string }).from);

  it('sends a cursor, an event id and an ISO time as the API takes them', async () => {
    const eventId = '0b6c1a52-5f4e-4c43-9d0f-2d9b1a3c4e5f';
    for (const from of ['c1.MToy', eventId, '2026-11-01T12:00:00Z', '2026-11-01'])
      expect((await webhooks(routes, 'replay', 'wh_1', '--from', from)).code).toBe(0);
    expect(sentFrom()).toEqual([
      'c1.MToy',
      eventId,
      '2026-11-01T12:00:00.000Z',
      '2026-11-01T00:00:00.000Z',
    ]);
  });

  it('sends an age as the time that long ago', async () => {
    const before = Date.now();
    const run = await webhooks(routes, 'replay', 'wh_1', '--from', '1h');
    const after = Date.now();
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [from] = sentFrom();
    const at = Date.parse(from ?? '');
    expect(at).toBeGreaterThanOrEqual(before - 3_600_000);
    expect(at).toBeLessThanOrEqual(after - 3_600_000);
    expect(run.stdout).toBe(
      `webhook wh_1 replays from ${from}; 'hodei webhooks inspect wh_1' shows its progress\n`,
    );
  });

  it("prints the API's answer with -o json, the id with -q", async () => {
    const json = await webhooks(routes, 'replay', 'wh_1', '--from', 'c1.MToy', '-o', 'json');
    expect(JSON.parse(json.stdout)).toEqual(webhook('wh_1', { cursor: 'c1.MToy' }));
    expect((await webhooks(routes, 'replay', 'wh_1', '--from', '5m', '-q')).stdout).toBe('wh_1\n');
  });

  it('fails on a webhook the server does not have, and on a 400 of the server', async () => {
    const missing = await webhooks(routes, 'replay', 'nope', '--from', '1h');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('HTTP 404 WebhookNotFound');
    await api?.close();
    api = undefined;
    const invalid = await webhooks(
      {
        'POST /v1/webhooks/wh_1/replay': answer(400, {
          error: 'ValidationFailed',
          message: 'invalid from',
          problems: [{ path: 'body.from', message: 'no event e-x in the log' }],
        }),
      },
      'replay',
      'wh_1',
      '--from',
      'e-x',
    );
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('HTTP 400 ValidationFailed:\n  - body.from: no event e-x');
    // Assigned by \`webhooks\`, which the narrowing of \`api = undefined\` above does not see.
    await (api as FakeApi | undefined)?.close();
    api = undefined;
    const message = 'the cursor c1.OTk6OTk is after the log head c1.MToy';
    const ahead = await webhooks(
      {
        'POST /v1/webhooks/wh_1/replay': answer(400, {
          error: 'InvalidReplayFrom',
          message,
          problems: [{ path: 'body.from', message }],
        }),
      },
      'replay',
      'wh_1',
      '--from',
      'c1.OTk6OTk',
    );
    expect(ahead).toMatchObject({ code: 1, stdout: '' });
    expect(ahead.stderr).toContain(`HTTP 400 InvalidReplayFrom:\n  - body.from: ${message}`);
  });
});

describe('hodei webhooks dead-letters', () => {
  const routes = {
    'GET /v1/webhooks/wh_1/dead-letters': answer(200, {
      items: [deadLetter('e-1'), { ...deadLetter('e-22'), workerId: null, lastError: 'timed out' }],
    }),
    'GET /v1/webhooks/wh_2/dead-letters': answer(200, { items: [] }),
    'GET /v1/webhooks/nope/dead-letters': notFound,
  };

  it('lists the events given up on, and how to deliver them again', async () => {
    const run = await webhooks(routes, 'dead-letters', 'wh_1');
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^EVENT {3}TYPE {20}WORKER {3}ATTEMPTS {3}AGE +LAST ERROR$/),
      expect.stringMatching(/^e-1 {5}WorkerEphemeralFailed {3}w1 {7}8 {10}\d\S* +HTTP 500$/),
      expect.stringMatching(/^e-22 {4}WorkerEphemeralFailed {3}- {8}8 {10}\d\S* +timed out$/),
    ]);
    expect(run.stderr).toContain('hodei webhooks replay wh_1 --from EVENT-ID|TIME');
  });

  it('adds when each first failed, when it was given up on, and its cursor with -o wide', async () => {
    const run = await webhooks(routes, 'dead-letters', 'wh_1', '-o', 'wide');
    expect(run.stdout).toMatch(/ FIRST FAILED +GIVEN UP +CURSOR +LAST ERROR\n/);
    expect(run.stdout).toContain(
      '2026-12-01T00:01:00.000Z   2026-12-01T00:10:00.000Z   c1.MTI6MzQ   HTTP 500',
    );
  });

  it("prints the API's JSON with -o json, the event ids with -q", async () => {
    const json = await webhooks(routes, 'dead-letters', 'wh_1', '-o', 'json');
    expect(JSON.parse(json.stdout).items.map((d: DeadLetterJson) => d.eventId)).toEqual([
      'e-1',
      'e-22',
    ]);
    expect((await webhooks(routes, 'dead-letters', 'wh_1', '-q')).stdout).toBe('e-1\ne-22\n');
  });

  it('says so when there are none; fails on an unknown webhook', async () => {
    const none = await webhooks(routes, 'dead-letters', 'wh_2');
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toContain('webhook wh_2 has no dead letters');
    const missing = await webhooks(routes, 'dead-letters', 'nope', '-o', 'json');
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toContain('HTTP 404 WebhookNotFound');
  });
});

describe('the argument parsers', () => {
  const now = () => Date.parse('2026-12-01T12:00:00.000Z');

  it('reads --from as a cursor, an event id, a time or an age', () => {
    const from = fromArgument(now);
    expect(from('c1.MToy')).toBe('c1.MToy');
    expect(from('evt-7')).toBe('evt-7');
    expect(from('2026-12-01T10:00:00+01:00')).toBe('2026-12-01T09:00:00.000Z');
    expect(from('1h')).toBe('2026-12-01T11:00:00.000Z');
    expect(from('1d12h')).toBe('2026-11-30T00:00:00.000Z');
  });

  it('refuses a date or time whose parts do not exist, and a time without a zone', () => {
    const from = fromArgument(now);
    expect(from('2024-02-29')).toBe('2024-02-29T00:00:00.000Z');
    expect(from('2026-12-01T10:00+0100')).toBe('2026-12-01T09:00:00.000Z');
    for (const value of ['2025-02-29', '2025-02-30T00:00:00Z', '2026-04-31', '2026-11-01T12:60Z'])
      expect(() => from(value)).toThrow(`"${value}" is not a date`);
    expect(() => from('2026-11-01T12:00')).toThrow('has no time zone');
  });

  it('takes a secret of 24 to 64 bytes only', () => {
    const secret = (n: number) => `whsec_${Buffer.alloc(n, 1).toString('base64')}`;
    expect(secretProblem(secret(24))).toBeUndefined();
    expect(secretProblem(secret(64))).toBeUndefined();
    expect(secretProblem(secret(23))).toContain('24 to 64 bytes');
    expect(secretProblem(secret(65))).toContain('24 to 64 bytes');
    expect(secretProblem(Buffer.alloc(32, 1).toString('base64'))).toContain('whsec_');
    expect(secretProblem('whsec_not base64!!')).toContain('whsec_');
  });
});

describe('completion', () => {
  let bin: string | undefined;
  afterEach(async () => {
    if (bin !== undefined) await rm(bin, { recursive: true, force: true });
    bin = undefined;
  });

  it('knows the webhooks commands and completes webhook ids from hodei webhooks ls -q', async () => {
    const never = () => Promise.reject(new Error('not in this test'));
    const deps: CliDeps = { serve: never, dockerHello: never, doctor: never };
    const io = { out: () => undefined, err: () => undefined, env: {}, stdoutColour: false };
    const { program } = buildProgram(createContext({ ...io, stderrColour: false }, deps, []));
    // A `hodei` on PATH that lists ids as `hodei <noun> ls -q` would.
    bin = await mkdtemp(join(tmpdir(), 'hodei-completion-'));
    await writeFile(
      join(bin, 'hodei'),
      '#!/bin/sh\n[ "$1 $2 $3" = "webhooks ls -q" ] && echo wh_1 && exit 0\n[ "$1 $2 $3" = "workers ls -q" ] && echo w_1\n',
    );
    await chmod(join(bin, 'hodei'), 0o755);
    const complete = (words: string[]): string[] => {
      const script = `${bashCompletion(program)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_hodei; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const run = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {
        encoding: 'utf8',
        env: { PATH: `${bin}:/usr/bin:/bin` },
      });
      expect(run.stderr).toBe('');
      return run.stdout.split('\n').filter((l) => l !== '');
    };
    expect(complete(['hodei', 'web'])).toEqual(['webhooks']);
    expect(complete(['hodei', 'webhooks', ''])).toEqual(
      expect.arrayContaining(['add', 'ls', 'inspect', 'rm', 'replay', 'dead-letters']),
    );
    expect(complete(['hodei', 'webhooks', 'rm', ''])).toEqual([
      '-q',
      '--quiet',
      '--url',
      '-h',
      '--help',
      'wh_1',
    ]);
    expect(complete(['hodei', 'webhooks', 'replay', 'w'])).toEqual(['wh_1']);
    expect(complete(['hodei', 'webhooks', 'replay', 'wh_1', '--f'])).toEqual(['--from']);
    expect(complete(['hodei', 'workers', 'inspect', 'w'])).toEqual(['w_1']);
    expect(complete(['hodei', 'webhooks', 'ls', '-o', ''])).toEqual(['json', 'wide']);
  });
});
