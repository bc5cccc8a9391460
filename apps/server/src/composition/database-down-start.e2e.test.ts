import type { PrivateCluster } from '@hodei/postgres-event-bus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerProcess } from '../testing/server-process.js';
import { startOnPrivateDatabase, until as untilEvery } from './private-database.testing.js';

/** Retries `check` until it passes, for at most `timeoutMs` (this start is slower). */
const until = (check: () => Promise<void>, timeoutMs = 30_000): Promise<void> =>
  untilEvery(check, timeoutMs, 100);

/**
 * The server started while its PostgreSQL is down (after a crash during an outage): it
 * answers health and reads, refuses writes with 503 and Retry-After, and once the database
 * is back migrates, takes its lock, recovers and serves writes.
 */
describe('starting while PostgreSQL is down (private cluster)', () => {
  let cluster: PrivateCluster;
  let server: ServerProcess;

  beforeAll(async () => {
    ({ cluster, server } = await startOnPrivateDatabase(undefined, { databaseDown: true }));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await cluster?.destroy();
  });

  it('serves health and reads, refuses writes with 503 until the database answers, then acts', async () => {
    expect((await server.api('GET', '/healthz')).status).toBe(200);
    const ready = await server.api('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.acting.detail).toContain('database unreachable');
    expect((await server.api('GET', '/v1/workers')).status).toBe(200);
    const refused = await server.api('POST', '/v1/workers', { body: { id: 'w1', mode: 'agent' } });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    await cluster.start();
    await until(async () => {
      const created = await server.api('POST', '/v1/workers', {
        body: { id: 'w1', mode: 'agent' },
      });
      expect(created.status).toBe(201);
    }, 60_000);
    await until(async () => {
      expect((await server.api('GET', '/readyz')).status).toBe(200);
    });
  }, 120_000);
});
