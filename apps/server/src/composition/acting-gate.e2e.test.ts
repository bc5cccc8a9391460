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
 * The router decodes a path before it matches a route, so `/v1/%77orkers` reaches the
 * `/v1/workers` handlers: the acting gate must judge the route, not the raw URL.
 */
describe('the acting gate while another session holds the provider lock (private PostgreSQL)', () => {
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

  it('refuses writes by percent-encoded paths like the plain ones, and unknown paths answer 404', async () => {
    expect(
      (await server.api('POST', '/v1/workers', { body: { id: 'a1', mode: 'agent' } })).status,
    ).toBe(201);
    await until(async () => {
      expect((await server.api('GET', '/v1/workers/a1')).body.state).toBe('ready');
    });
    const rival = new pg.Client({ connectionString: cluster.url });
    await rival.connect();
    try {
      await rival.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'hodei-server pid=%'`,
      );
      await until(async () => {
        const taken = await rival.query<{ locked: boolean }>(LOCK, [`provider:${provider}`]);
        expect(taken.rows[0]?.locked).toBe(true);
      });
      await until(async () => {
        expect((await server.api('POST', '/v1/workers/a1/busy')).status).toBe(503);
      });
      const encoded = await server.api('POST', '/v1/%77orkers/a1/busy');
      expect(encoded.status).toBe(503);
      expect(encoded.body.error).toBe('ProviderNotRecovered');
      expect((await server.api('POST', '/v1/%67c')).status).toBe(503);
      expect((await server.api('DELETE', '/v1/%77orkers/a1')).status).toBe(503);
      expect((await server.api('GET', '/v1/workers/a1')).body.state).toBe('ready');
      expect((await server.api('POST', '/v1/workersXYZ', { body: {} })).status).toBe(404);
    } finally {
      await rival.end();
    }
  }, 90_000);
});
