import { startPrivateCluster, type PrivateCluster } from '@hodei/postgres-event-bus/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  spawnServer,
  tempDataDir,
  uniqueProviderId,
  type ServerProcess,
} from '../testing/server-process.js';

/** Retries `check` until it passes, for at most `timeoutMs`. */
async function until(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (failure) {
      if (Date.now() > end) throw failure;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The advisory lock key of a provider id, as the server takes it. */
const LOCK = 'SELECT pg_try_advisory_lock(1213154373, hashtext($1)) AS locked';

/**
 * The provider lock's PostgreSQL session is terminated and, before the server can retake it,
 * another session takes the lock (a second server would): every API write must answer 503
 * with Retry-After until the lock is back, and the server acts again after that.
 */
describe('losing the provider lock (private PostgreSQL cluster)', () => {
  let cluster: PrivateCluster;
  let server: ServerProcess;
  const provider = uniqueProviderId();

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    server = await spawnServer({
      DATABASE_URL: cluster.url,
      HODEI_PROVIDERS: `k8s-stub:${provider}`,
      HODEI_DATA_DIR: await tempDataDir(),
    });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await cluster?.destroy();
  });

  it('answers writes 503 with Retry-After while another session holds the lock, then acts again', async () => {
    const create = (id: string) =>
      server.api('POST', '/v1/workers', { body: { id, mode: 'agent' } });
    expect((await create('before')).status).toBe(201);

    const rival = new pg.Client({ connectionString: cluster.url });
    await rival.connect();
    try {
      await rival.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'hodei-server pid=%'`,
      );
      // Taken before the server retries (a second after the loss).
      await until(async () => {
        const taken = await rival.query<{ locked: boolean }>(LOCK, [`provider:${provider}`]);
        expect(taken.rows[0]?.locked).toBe(true);
      });
      await until(async () => {
        const refused = await create('during');
        expect(refused.status).toBe(503);
        expect(refused.body.error).toBe('ProviderNotRecovered');
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      });
      const deleted = await server.api('DELETE', '/v1/workers/before');
      expect(deleted.status).toBe(503);
      expect((await server.api('GET', '/v1/workers/before')).status).toBe(200);
      const ready = await server.api('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.acting.detail).toContain('provider lock lost');
    } finally {
      await rival.end();
    }
    await until(async () => {
      expect((await create('after')).status).toBe(201);
    }, 30_000);
    expect((await server.api('DELETE', '/v1/workers/before')).status).toBeLessThan(300);
  }, 90_000);
});
