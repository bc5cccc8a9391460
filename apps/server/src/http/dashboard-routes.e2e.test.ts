import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, type TestServer } from '../testing/test-server.js';

/**
 * The fleet view's reads over HTTP, on the simulated cluster: `/v1/stats/workers` counts
 * the tracked workers by state and provider as they change, and `/v1/stats/deadlines` shows
 * the reap lag of a real deadline pass on a job past its maxLifetime.
 */

interface Summary {
  total: number;
  byState: Record<string, number>;
  providers: { id: string; lifecycle: boolean; byState: Record<string, number>; live: number }[];
}

interface DeadlineStats {
  windowSeconds: number;
  reapLag: Record<string, { count: number; p50: number | null; max: number | null }>;
}

const ZERO = { creating: 0, ready: 0, busy: 0, terminating: 0, terminated: 0, failed: 0 };

describe('summary and deadline stats', () => {
  let t: TestServer;
  const summary = async () => (await t.api('GET', '/v1/stats/workers')).body as Summary;

  beforeAll(async () => {
    t = await startTestServer({ HODEI_GC_INTERVAL_SECONDS: '1' });
  });

  afterAll(async () => {
    const left = await t?.api('GET', '/v1/workers?limit=1000');
    for (const w of (left?.body?.items ?? []) as { id: string }[])
      await t.api('DELETE', `/v1/workers/${w.id}?wait=true`);
    await t?.stop();
  });

  it('counts nothing on a new server, every state and provider listed', async () => {
    const s = await summary();
    expect(s).toEqual({
      total: 0,
      byState: ZERO,
      providers: [{ id: expect.any(String), lifecycle: true, byState: ZERO, live: 0 }],
    });
    const stats = await t.api('GET', '/v1/stats/deadlines');
    expect(stats.status).toBe(200);
    const empty = { count: 0, p50: null, p90: null, p99: null, max: null };
    expect(stats.body).toEqual({
      windowSeconds: 3600,
      reapLag: { lifetime: empty, idle: empty, startup: empty, forceRemove: empty, ttl: empty },
      idleTail: empty,
    });
  });

  it('counts workers by state as they change', async () => {
    const agent = (id: string) => ({
      id,
      mode: 'agent',
      readiness: 'external',
      command: ['sleep', '3600'],
    });
    for (const id of ['sum-a', 'sum-b', 'sum-c'])
      expect((await t.api('POST', '/v1/workers', { body: agent(id) })).status).toBe(201);
    expect((await t.api('POST', '/v1/workers/sum-a/ready')).status).toBe(200);
    expect((await t.api('POST', '/v1/workers/sum-b/ready')).status).toBe(200);
    expect((await t.api('POST', '/v1/workers/sum-b/busy')).status).toBe(200);
    expect((await t.api('DELETE', '/v1/workers/sum-c?wait=true')).status).toBe(200);
    const listed = (await t.api('GET', '/v1/workers?limit=1000')).body as {
      items: { state: string }[];
    };
    const s = await summary();
    const expected = { ...ZERO };
    for (const w of listed.items) expected[w.state as keyof typeof ZERO]++;
    expect(s.byState).toEqual(expected);
    expect(s.total).toBe(listed.items.length);
    expect(s.byState.ready).toBe(1);
    expect(s.byState.busy).toBe(1);
    expect(s.providers[0]?.byState).toEqual(expected);
    expect(s.providers[0]?.live).toBe(
      listed.items.filter((w) => !['terminated', 'failed'].includes(w.state)).length,
    );
  });

  it('shows the lifetime reap lag of a job past its maxLifetime', async () => {
    const created = await t.api('POST', '/v1/workers', {
      body: {
        id: 'stats-life',
        mode: 'job',
        command: ['sleep', '3600'],
        policy: {
          maxLifetimeSeconds: 2,
          idleTimeoutSeconds: 2,
          startupTimeoutSeconds: 2,
          gracefulTerminationTimeoutSeconds: 1,
          ttlAfterCompletionSeconds: 600,
        },
      },
    });
    expect(created.status).toBe(201);
    const stats = await eventually(
      async () => (await t.api('GET', '/v1/stats/deadlines?windowSeconds=600')).body,
      (b: DeadlineStats) => (b.reapLag['lifetime']?.count ?? 0) >= 1,
      60_000,
    );
    expect(stats.windowSeconds).toBe(600);
    const lag = stats.reapLag['lifetime'] ?? { count: 0, p50: null, max: null };
    expect(lag.count).toBe(1);
    expect(lag.p50).toBe(lag.max);
    expect(lag.max).toBeGreaterThanOrEqual(0);
    // The same observation as the histogram's.
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const line = metrics
      .split('\n')
      .find((l) => l.startsWith('hodei_reap_lag_seconds_sum{') && l.includes('rule="lifetime"'));
    expect(Number(line?.split(' ').at(-1))).toBeCloseTo(lag.max ?? NaN, 6);
  });

  it('refuses a window past a day or not a whole number', async () => {
    for (const w of ['0', '86401', '1.5', 'x']) {
      const r = await t.api('GET', `/v1/stats/deadlines?windowSeconds=${w}`);
      expect(r.status, w).toBe(400);
      expect(r.body, w).toMatchObject({
        error: 'ValidationFailed',
        message: 'querystring.windowSeconds must be a whole number from 1 to 86400',
      });
    }
    expect((await t.api('GET', '/v1/stats/deadlines?windowSeconds=86400')).status).toBe(200);
  });
});
