import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_VERSION } from '../metrics/build-info.js';
import { createTestDatabase, tempDataDir, type TestDatabase } from '../testing/server-process.js';
import { eventually, startTestServer, type TestServer } from '../testing/test-server.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const RECEIVER = join(here, '..', 'testing', 'webhook-receiver.child.ts');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface ReceivedLine {
  readonly webhookId: string;
  readonly verified: boolean;
  readonly id?: string;
  readonly subject?: string;
  readonly userAgent?: string;
}

const receivedIn = (file: string): ReceivedLine[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as ReceivedLine)
    : [];

/** The receiver in a process of its own (node with tsx's loader: SIGKILL hits the receiver). */
async function startReceiver(
  port: number,
  secret: string,
  file: string,
  killAfter: number,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', RECEIVER, String(port), secret, file, String(killAfter)],
    { cwd: join(here, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the receiver exited (${code}) at start`)));
  });
  return child;
}

const agent = (id: string) => ({ id, mode: 'agent', readiness: 'external', command: ['sleep'] });

describe('webhooks over HTTP, on PostgreSQL', () => {
  let db: TestDatabase;
  let t: TestServer;
  let noDb: TestServer;
  let port: number;
  let logFile: string;
  const receivers: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    port = await freePort();
    const dataDir = await tempDataDir();
    logFile = join(dataDir, 'server.log');
    t = await startTestServer(
      {
        DATABASE_URL: db.url,
        HODEI_EVENT_PUBLISHER: 'postgres',
        HODEI_DATA_DIR: dataDir,
        HODEI_LOG_LEVEL: 'debug',
        HODEI_WEBHOOK_ALLOWED_URLS: `http://127.0.0.1:${port}/hooks/`,
        HODEI_WEBHOOK_MAX_ATTEMPTS: '100',
        HODEI_WEBHOOK_MAX: '4',
      },
      { logDestination: logFile },
    );
    noDb = await startTestServer();
  });

  afterAll(async () => {
    for (const r of receivers) if (r.exitCode === null && r.signalCode === null) r.kill('SIGKILL');
    await t?.stop();
    await noDb?.stop();
    await db?.drop();
  });

  it('creates, shows, lists and deletes webhooks, the secret shown only at create', async () => {
    const url = `http://127.0.0.1:${port}/hooks/crud`;
    const created = await t.api('POST', '/v1/webhooks', {
      body: { url, types: ['WorkerEphemeralReady', 'io.hodei.lifecycle.WorkerEphemeralBusy'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url,
      types: ['WorkerEphemeralReady', 'WorkerEphemeralBusy'],
      delivery: { delivered: 0, failures: 0, deadLettered: 0, lastError: null },
    });
    expect(created.body.secret).toMatch(/^whsec_/);
    const id = created.body.id as string;
    const got = await t.api('GET', `/v1/webhooks/${id}`);
    expect(got.status).toBe(200);
    const upper = await t.api('GET', `/v1/webhooks/${id.toUpperCase()}`);
    expect(upper.status).toBe(200);
    expect(upper.body.id).toBe(id);
    expect(got.body).not.toHaveProperty('secret');
    const listed = await t.api('GET', '/v1/webhooks');
    expect(listed.body.items.map((w: { id: string }) => w.id)).toContain(id);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);
    expect((await t.api('GET', `/v1/webhooks/${id}/dead-letters`)).body).toEqual({ items: [] });
    const replayed = await t.api('POST', `/v1/webhooks/${id}/replay`, {
      body: { from: '2020-01-01T00:00:00Z' },
    });
    expect(replayed.status).toBe(202);
    const badFrom = await t.api('POST', `/v1/webhooks/${id}/replay`, { body: { from: 'soon' } });
    expect(badFrom.status).toBe(400);
    expect(badFrom.body.error).toBe('InvalidReplayFrom');
    expect(badFrom.body.problems).toEqual([{ path: 'body.from', message: expect.any(String) }]);
    const head = replayed.body.delivery.cursor as string;
    const [tx, position] = Buffer.from(head.slice(3), 'base64url').toString().split(':');
    const ahead = `c1.${Buffer.from(`${tx}:${BigInt(position ?? '0') + 1000n}`).toString('base64url')}`;
    const pastHead = await t.api('POST', `/v1/webhooks/${id}/replay`, { body: { from: ahead } });
    expect(pastHead.status).toBe(400);
    expect(pastHead.body).toMatchObject({
      error: 'InvalidReplayFrom',
      message: expect.stringContaining('after the log head'),
    });
    for (const from of [
      `c1.${Buffer.from('99999999999999999999:1').toString('base64url')}`,
      `c1.${Buffer.from('1:9999999999999999999').toString('base64url')}`,
      '2025-02-30T00:00:00Z',
    ]) {
      const refused = await t.api('POST', `/v1/webhooks/${id}/replay`, { body: { from } });
      expect([refused.status, refused.body.error]).toEqual([400, 'InvalidReplayFrom']);
    }
    // Refused or not, the replays left it delivering.
    await eventually(
      () => t.api('GET', `/v1/webhooks/${id}`),
      (r) => r.body.delivery.active === true,
    );
    expect((await t.api('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expect((await t.api('GET', `/v1/webhooks/${id}`)).status).toBe(404);
    expect((await t.api('DELETE', `/v1/webhooks/${id}`)).status).toBe(404);
    expect(readFileSync(logFile, 'utf8')).not.toContain(created.body.secret);
  });

  it('refuses a URL outside HODEI_WEBHOOK_ALLOWED_URLS, a bad secret, and answers 409 without a database', async () => {
    const outside = await t.api('POST', '/v1/webhooks', {
      body: { url: 'http://169.254.169.254/latest/meta-data' },
    });
    expect(outside.status).toBe(400);
    expect(outside.body.error).toBe('WebhookUrlNotAllowed');
    expect(outside.body.message).toContain('HODEI_WEBHOOK_ALLOWED_URLS');
    expect(outside.body.message).toContain(`http://127.0.0.1:${port}/hooks/`);
    const badSecret = await t.api('POST', '/v1/webhooks', {
      body: { url: `http://127.0.0.1:${port}/hooks/x`, secret: 'whsec_c2hvcnQ=' },
    });
    expect(badSecret.status).toBe(400);
    expect(badSecret.body.problems).toEqual([{ path: 'body.secret', message: expect.any(String) }]);
    expect(outside.body.problems).toEqual([{ path: 'body.url', message: expect.any(String) }]);
    const schemaRefused = await t.api('POST', '/v1/webhooks', { body: { url: '' } });
    expect(schemaRefused.body.problems).toEqual([
      { path: 'body.url', message: expect.any(String) },
    ]);
    const encoded = await t.api('POST', '/v1/webhooks', {
      body: { url: `http://127.0.0.1:${port}/hooks/..%2Fadmin` },
    });
    expect(encoded.status).toBe(400);
    expect(encoded.body).toMatchObject({
      error: 'InvalidWebhook',
      message: expect.stringContaining('encoded'),
      problems: [{ path: 'body.url', message: expect.stringContaining('%2f') }],
    });
    const none = await noDb.api('POST', '/v1/webhooks', { body: { url: 'http://x/' } });
    expect(none.status).toBe(409);
    expect(none.body).toEqual({
      error: 'WebhooksNeedDatabase',
      message: expect.stringContaining('DATABASE_URL'),
    });
  });

  it('a receiver that dies mid-stream and comes back misses nothing: every event, in order per worker, duplicates with the same webhook-id', async () => {
    const file = join(await tempDataDir(), 'received.jsonl');
    const created = await t.api('POST', '/v1/webhooks', {
      body: { url: `http://127.0.0.1:${port}/hooks/kill` },
    });
    expect(created.status).toBe(201);
    const { id, secret } = created.body as { id: string; secret: string };
    const killAfter = 5;
    const first = await startReceiver(port, secret, file, killAfter);
    receivers.push(first);
    const firstExit = new Promise((resolve) => first.once('exit', resolve));

    const workers = ['wh-a', 'wh-b', 'wh-c'];
    for (const w of workers)
      expect((await t.api('POST', '/v1/workers', { body: agent(w) })).status).toBe(201);
    for (const w of workers) await t.api('POST', `/v1/workers/${w}/ready`);
    await firstExit;
    expect(receivedIn(file)).toHaveLength(killAfter);
    // While it is down, more events; their deliveries fail and are retried.
    for (const w of workers) await t.api('POST', `/v1/workers/${w}/busy`);
    for (const w of workers) await t.api('DELETE', `/v1/workers/${w}?wait=true`);
    const down = await eventually(
      () => t.api('GET', `/v1/webhooks/${id}`),
      (r) => (r.body?.delivery?.failures ?? 0) >= 2,
    );
    expect(down.body.delivery.failures).toBeGreaterThanOrEqual(2);
    expect(down.body.delivery.lastError).not.toBeNull();

    receivers.push(await startReceiver(port, secret, file, 0));
    const readLog = () =>
      db.query<{ event_id: string; subject: string | null }>(
        `SELECT event_id::text, subject FROM hodei.events
         WHERE subject = ANY($1) ORDER BY transaction_id, global_position`,
        [workers],
      );
    const { log, lines: done } = await eventually(
      async () => ({ log: await readLog(), lines: receivedIn(file) }),
      ({ log, lines }) => log.every((e) => lines.some((l) => l.id === e.event_id)),
      60_000,
    );
    expect(log.length).toBeGreaterThanOrEqual(workers.length * 4);
    expect(done.every((l) => l.verified)).toBe(true);
    expect(done.every((l) => l.webhookId === l.id)).toBe(true);
    expect(done.every((l) => l.userAgent === `hodei/${SERVER_VERSION}`)).toBe(true);
    for (const w of workers) {
      const expected = log.filter((e) => e.subject === w).map((e) => e.event_id);
      const firsts = [...new Set(done.filter((l) => l.subject === w).map((l) => l.id))];
      expect(firsts).toEqual(expected);
    }
    // The request it died on is sent again, with the same webhook-id; nothing else twice.
    const counts = new Map<string, number>();
    for (const l of done) counts.set(l.webhookId, (counts.get(l.webhookId) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([webhookId]) => webhookId);
    expect(twice).toEqual([done[killAfter - 1]?.webhookId]);
    const state = await eventually(
      () => t.api('GET', `/v1/webhooks/${id}`),
      (r) => r.body.delivery.delivered >= log.length,
    );
    expect(state.body.delivery).toMatchObject({ deadLettered: 0, active: true, lastError: null });
  });

  it('refuses a webhook past HODEI_WEBHOOK_MAX with 409 WebhookLimitReached', async () => {
    const created: string[] = [];
    for (;;) {
      const answer = await t.api('POST', '/v1/webhooks', {
        body: { url: `http://127.0.0.1:${port}/hooks/cap` },
      });
      if (answer.status !== 201) {
        expect(answer.status).toBe(409);
        expect(answer.body).toEqual({
          error: 'WebhookLimitReached',
          message: expect.stringContaining('HODEI_WEBHOOK_MAX'),
        });
        break;
      }
      created.push(answer.body.id as string);
      expect(created.length).toBeLessThanOrEqual(4);
    }
    expect((await t.api('GET', '/v1/webhooks')).body.items).toHaveLength(4);
    for (const id of created) await t.api('DELETE', `/v1/webhooks/${id}`);
  });

  it('answers a DELETE that carries a compressed body with 415, as its document says', async () => {
    const answer = await t.api('DELETE', '/v1/webhooks/00000000-0000-4000-8000-000000000000', {
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      raw: '{}',
    });
    expect(answer.status).toBe(415);
  });
});
