import type { PrivateCluster } from '@hodei/postgres-event-bus/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueProviderId, type ServerProcess } from '../testing/server-process.js';
import {
  PROVIDER_LOCK_SQL as LOCK,
  startOnPrivateDatabase,
  until,
} from './private-database.testing.js';

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
    ({ cluster, server } = await startOnPrivateDatabase(provider));
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
