import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, TEST_TOKEN } from '../testing/test-server.js';
import {
  createTestDatabase,
  tempDataDir,
  uniqueProviderId,
  type TestDatabase,
} from '../testing/server-process.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const WORKERS = 1_500;
/** Each reaches its lifetime within seconds: the deadline pass acts on hundreds at once. */
const SHORT_LIVED = {
  maxLifetimeSeconds: 4,
  idleTimeoutSeconds: 3,
  startupTimeoutSeconds: 3,
  gracefulTerminationTimeoutSeconds: 1,
  expiryWarningSeconds: 1,
};
/** Generous: the server must exit on its own well before; this only ends a hung test. */
const KILL_AFTER_MS = 30_000;

/**
 * SIGTERM while thousands of workers reach their lifetime (a deadline pass acting on them)
 * and clients keep creating: the server exits by itself, no event is refused by a closed
 * publisher, and every create it acknowledged is in the event log.
 */
describe('SIGTERM under load (simulated Kubernetes provider)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('exits on its own, loses no event and records every acknowledged create', async () => {
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        DATABASE_URL: db.url,
        HODEI_PROVIDERS: `k8s-stub:${uniqueProviderId()}`,
        HODEI_DATA_DIR: await tempDataDir(),
        HODEI_HTTP_PORT: '0',
        HODEI_API_TOKEN: TEST_TOKEN,
        HODEI_LOG_LEVEL: 'info',
        HODEI_MAX_WORKERS: String(WORKERS * 2),
        HODEI_GC_INTERVAL_SECONDS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (log += c.toString('utf8')));
    const exited = new Promise<number | string>((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    const url = await new Promise<string>((resolve, reject) => {
      const poll = setInterval(() => {
        const m = /listening on (http:\/\/\S+)/.exec(log);
        if (m?.[1] !== undefined) {
          clearInterval(poll);
          resolve(m[1]);
        }
      }, 25);
      void exited.then((code) => {
        clearInterval(poll);
        reject(new Error(`server exited (${code}):\n${log}`));
      });
    });
    const api = apiClient(url);
    const acknowledged: string[] = [];
    const unexpected: unknown[] = [];
    let next = 0;
    const client = async () => {
      while (unexpected.length === 0) {
        const id = `w-${next++}`;
        const r = await api('POST', '/v1/workers', {
          body: { id, mode: 'agent', policy: SHORT_LIVED },
        }).catch(() => undefined);
        if (r === undefined) return; // the server closed
        if (r.status === 201) acknowledged.push(id);
        // Refused while it shuts down: a documented 503.
        else if (r.status !== 503) unexpected.push(r.body);
      }
    };
    const clients = Array.from({ length: 32 }, client);
    // Thousands live; the first reach their lifetime while the rest are made.
    while (acknowledged.length < WORKERS && unexpected.length === 0)
      await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    const code = await exited;
    clearTimeout(killer);
    await Promise.all(clients);

    expect(unexpected).toEqual([]);
    expect(code).toBe(0);
    expect(log).not.toContain('publisher is closed');
    const recorded = await db.query<{ subject: string }>(
      `SELECT DISTINCT subject FROM hodei.events WHERE type = 'WorkerEphemeralCreated'`,
    );
    const inLog = new Set(recorded.map((r) => r.subject));
    expect(acknowledged.filter((id) => !inLog.has(id))).toEqual([]);
  }, 180_000);
});
