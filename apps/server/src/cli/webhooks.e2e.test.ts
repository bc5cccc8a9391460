import { startWebhookReceiver, type WebhookReceiver } from '@hodei/postgres-event-bus/testing';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHodei } from '../testing/hodei-child.js';
import { createTestDatabase, tempDataDir, type TestDatabase } from '../testing/server-process.js';
import {
  eventually,
  startTestServer,
  TEST_TOKEN,
  type TestServer,
} from '../testing/test-server.js';

// `hodei webhooks` through the built CLI against a server whose event log is PostgreSQL.
let db: TestDatabase;
let t: TestServer;
let receiver: WebhookReceiver;

const hodei = (...args: string[]) =>
  runHodei(['webhooks', ...args, '--url', t.url], { HODEI_API_TOKEN: TEST_TOKEN, NO_COLOR: '1' });

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  db = await createTestDatabase();
  t = await startTestServer({
    DATABASE_URL: db.url,
    HODEI_EVENT_PUBLISHER: 'postgres',
    HODEI_DATA_DIR: await tempDataDir(),
    HODEI_WEBHOOK_ALLOWED_URLS: `${new URL(receiver.url).origin}/`,
  });
});

afterAll(async () => {
  await t?.stop();
  await db?.drop();
  await receiver?.close();
});

describe('hodei webhooks', () => {
  it('adds a webhook that receives signed events, lists it, and removes it', async () => {
    const added = await hodei('add', receiver.url, '--type', 'WorkerEphemeralCreated');
    expect(added.code).toBe(0);
    expect(added.stderr).toContain('the secret is not shown again');
    const [, id, secret] =
      /^webhook (\S+) created for \S+\nsecret: (whsec_\S+)\n$/.exec(added.stdout) ?? [];
    expect(id).toBeDefined();

    const created = await t.api('POST', '/v1/workers', {
      body: { id: 'wh-e2e-1', command: ['sh', '-c', 'sleep 600'] },
    });
    expect(created.status).toBe(201);
    const delivered = await eventually(
      () => Promise.resolve(receiver.requests.filter((r) => r.body.includes('wh-e2e-1'))),
      (requests) => requests.length > 0,
    );
    expect(delivered.length).toBeGreaterThan(0);
    // The secret the CLI printed is the one the server signs with.
    const [request] = delivered;
    const headers = Object.fromEntries(
      ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [
        h,
        String(request?.headers[h]),
      ]),
    );
    expect(new Webhook(secret ?? '').verify(request?.body ?? '', headers)).toMatchObject({
      type: 'io.hodei.lifecycle.WorkerEphemeralCreated',
      subject: 'wh-e2e-1',
    });

    const ids = await hodei('ls', '-q');
    expect(ids).toMatchObject({ code: 0, stdout: `${id}\n` });
    // Its row: the receiver's URL, its type, the deliveries counted, no failure, no dead letter.
    const row = new RegExp(
      `^${id} +${escape(receiver.url)} +WorkerEphemeralCreated +[1-9]\\d* +0 +0 +\\S+$`,
      'm',
    );
    const listed = await eventually(
      () => hodei('ls'),
      (run) => row.test(run.stdout),
    );
    expect(listed.stdout).toMatch(
      /^ID +URL +TYPES +DELIVERED +FAILURES +DEAD LETTERS +LAST DELIVERED\n/,
    );
    expect(listed.stdout).toMatch(row);
    const inspected = await hodei('inspect', id ?? '', '-o', 'json');
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      id,
      url: receiver.url,
      types: ['WorkerEphemeralCreated'],
      delivery: { delivered: expect.any(Number), deadLettered: 0 },
    });
    expect(JSON.parse(inspected.stdout)).not.toHaveProperty('secret');

    expect(await hodei('rm', id ?? '')).toMatchObject({
      code: 0,
      stdout: `webhook ${id} removed\n`,
    });
    expect(await hodei('ls', '-q')).toMatchObject({ code: 0, stdout: '' });
    const gone = await hodei('inspect', id ?? '');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('HTTP 404 WebhookNotFound');
  });

  it('refuses a target outside the allowlist with its message, exit 1', async () => {
    const run = await hodei('add', 'http://10.0.0.1/hook');
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain('HTTP 400');
    expect(run.stderr).toContain('HODEI_WEBHOOK_ALLOWED_URLS');
  });
});

describe('hodei webhooks against a server without a database', () => {
  let bare: TestServer | undefined;
  afterAll(async () => {
    await bare?.stop();
  });

  it('prints the 409 WebhooksNeedDatabase and what to do, exit 1', async () => {
    bare = await startTestServer();
    const run = await runHodei(['webhooks', 'ls', '--url', bare.url], {
      HODEI_API_TOKEN: TEST_TOKEN,
      NO_COLOR: '1',
    });
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain('HTTP 409 WebhooksNeedDatabase');
    expect(run.stderr).toContain('restart the server with DATABASE_URL set');
  });
});
