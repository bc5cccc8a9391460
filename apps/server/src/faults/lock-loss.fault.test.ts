import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEngineProxy, type EngineProxy } from '@hodei/docker-adapter/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENTED_503, startChurn } from './churn.js';
import { startFaultServer, type FaultServer } from './fault-server.js';
import {
  startPrivateDockerEngine,
  startPrivatePostgres,
  sweepFaultLeftovers,
  type PrivateDockerEngine,
  type PrivatePostgres,
} from './fault-services.js';
import { ALL_ZERO, checkInvariants, countsOf, createDecoys, type Decoys } from './invariants.js';

/**
 * The provider lock's session is terminated (`pg_terminate_backend`) while a second server
 * with the same provider id waits for it (item 7). Until it has the lock back the first must
 * not act: its API writes answer 503 with `Retry-After`, and it neither creates nor removes a
 * container while the other holds the lock. The first reaches the engine through a recording
 * proxy, so what it asks of the engine can be told from the second's requests.
 */

/** The first key of the server's advisory locks ("HODE", composition/provider-locks.ts). */
const LOCK_NAMESPACE = 0x484f4445;
const HOLDER_SQL = `SELECT a.pid, a.application_name
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
   WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int8::oid
     AND l.objid::int8 = (hashtext($2)::int8 + 4294967296) % 4294967296 AND l.objsubid = 2`;
/** Engine requests that change containers: what a server that does not hold the lock must not send. */
const ACTING =
  /^(POST \S*\/containers\/create|DELETE \S*\/containers\/|POST \S*\/containers\/[^/?]+\/(start|stop|kill))/;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Holder = { pid: number; application_name: string } | undefined;

/** Polls the lock's holder for up to 10 s until it is the process `pid`. */
async function eventuallyHeldBy(read: () => Promise<Holder>, pid: number | undefined) {
  let h = await read();
  for (
    let i = 0;
    i < 50 && pid !== undefined && !h?.application_name.includes(`pid=${pid} `);
    i += 1
  ) {
    await sleep(200);
    h = await read();
  }
  return h;
}

/** What the log holds for the first life the checker found invalid, to say which server wrote what. */
async function printFirstInvalidLife(
  admin: pg.Client,
  findings: readonly { kind: string; subject: string }[],
  window: Record<string, string | number | undefined>,
): Promise<void> {
  const first = findings.find((f) => f.kind === 'history');
  if (first === undefined) return;
  const rows = await admin.query<{ type: string; time: Date; recorded_at: Date; data: unknown }>(
    `SELECT type, time, recorded_at, data FROM hodei.events WHERE stream_id LIKE $1
      ORDER BY global_position`,
    [`worker:${first.subject.split('/')[0] ?? ''}%`],
  );
  console.log(
    `lock-loss: ${JSON.stringify(window)}\n` +
      rows.rows
        .map((r) => `  ${r.time.toISOString()} ${r.type} ${JSON.stringify(r.data).slice(0, 200)}`)
        .join('\n'),
  );
}

describe('the provider lock session terminated with a second server waiting', () => {
  let engine: PrivateDockerEngine | undefined;
  let postgres: PrivatePostgres | undefined;
  let proxy: EngineProxy | undefined;
  let admin: pg.Client | undefined;
  const servers: FaultServer[] = [];
  const dirs: string[] = [];
  const t0 = Date.now();

  const holder = async (providerId: string) =>
    (
      await (admin as pg.Client).query<{ pid: number; application_name: string }>(HOLDER_SQL, [
        LOCK_NAMESPACE,
        `provider:${providerId}`,
      ])
    ).rows[0];

  beforeAll(async () => {
    await sweepFaultLeftovers();
    engine = await startPrivateDockerEngine();
    postgres = await startPrivatePostgres();
    admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    const outer = process.env['DOCKER_HOST'];
    process.env['DOCKER_HOST'] = engine.dockerHost;
    try {
      proxy = await startEngineProxy();
    } finally {
      if (outer === undefined) delete process.env['DOCKER_HOST'];
      else process.env['DOCKER_HOST'] = outer;
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.kill9().catch(() => undefined);
    await admin?.end().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    await engine?.stop().catch(() => undefined);
    await postgres?.stop().catch(() => undefined);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    console.log(`lock-loss.fault: ${Math.round((Date.now() - t0) / 1000)} s`);
  }, 120_000);

  it('stops acting while it has lost the lock, and keeps every promise', async () => {
    const e = engine as PrivateDockerEngine;
    const p = postgres as PrivatePostgres;
    const decoys: Decoys = await createDecoys(e);
    const dataDir = async () => {
      const d = await mkdtemp(join(tmpdir(), 'hodei-fault-'));
      dirs.push(d);
      return d;
    };
    const base = { image: e.image, databaseUrl: p.url };
    const first = await startFaultServer({
      ...base,
      dockerHost: (proxy as EngineProxy).dockerHost,
      dataDir: await dataDir(),
    });
    servers.push(first);
    const churn = startChurn(first, { workers: 120 });
    await sleep(5000);
    // Terminate the first's lock session whenever it holds the lock, until the second (which
    // a server given a held provider id may refuse to start, so it is started until it runs)
    // has taken it.
    let terminating = true;
    const terminator = (async () => {
      while (terminating) {
        const h = await holder(first.providerId);
        if (h?.application_name.includes(`pid=${first.pid} `) === true)
          await (admin as pg.Client).query('SELECT pg_terminate_backend($1)', [h.pid]);
        await sleep(50);
      }
    })();
    let second: FaultServer | undefined;
    let refusal = '';
    for (let attempt = 0; attempt < 5 && second === undefined; attempt += 1) {
      second = await startFaultServer({
        ...base,
        dockerHost: e.dockerHost,
        dataDir: await dataDir(),
        providerId: first.providerId,
      }).catch((cause: unknown) => {
        refusal = (cause as Error).message;
        return undefined;
      });
    }
    if (second !== undefined) servers.push(second);
    const taken = await eventuallyHeldBy(() => holder(first.providerId), second?.pid);
    const lostAt = new Date().toISOString();
    terminating = false;
    await terminator;
    expect(second, `the second server never started: ${refusal}`).toBeDefined();
    expect(taken?.application_name).toContain(`pid=${second?.pid ?? 0} `);
    // Requests already sent to the engine may finish; from here on the first must not act.
    await sleep(1000);
    const before = (proxy as EngineProxy).requests().length;
    const write = await fetch(`${first.baseUrl}/v1/workers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'while-lost', command: ['true'] }),
    });
    const answer = (await write.json()) as { error?: string };
    await sleep(6000);
    const acted = (proxy as EngineProxy)
      .requests()
      .slice(before)
      .filter((r) => ACTING.test(r));
    // Hand the lock back: the first retakes it, recovers, and the churn goes on.
    const handedBackAt = new Date().toISOString();
    await second?.sigterm();
    const report = await churn.done;
    await sleep(3000);
    const checked = await checkInvariants({
      engine: e,
      server: first,
      databaseUrl: p.url,
      providerId: first.providerId,
      decoys,
      churn: report,
      scenario: 'lock-loss',
    });
    await printFirstInvalidLife(admin as pg.Client, checked.findings, {
      lostAt,
      handedBackAt,
      first: first.pid,
      second: second?.pid,
    });
    expect(write.status).toBe(503);
    expect(write.headers.get('retry-after')).not.toBeNull();
    expect(DOCUMENTED_503.has(answer.error ?? '')).toBe(true);
    expect(acted).toEqual([]);
    expect(report.created).toBeGreaterThanOrEqual(100);
    expect(countsOf(checked)).toEqual(ALL_ZERO);
  }, 400_000);
});
