import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEventBus, type TestEventBus } from '../testing/index.js';
import { appendStatement } from './append-statement.js';

interface PlanNode {
  readonly 'Node Type': string;
  readonly 'Relation Name'?: string;
  readonly 'Index Name'?: string;
  readonly 'Index Cond'?: string;
  readonly Plans?: readonly PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

describe('the plan of the batch append on a fresh, small table', () => {
  let t: TestEventBus;

  beforeAll(async () => {
    t = await createTestEventBus('plan', { listen: false, notify: false });
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('looks each id up in the unique index (an index condition), whatever the statistics', async () => {
    // The generic plan a session caches inside append_events, with its settings.
    const statement = appendStatement(t.schema, sql.raw('$1'), sql.raw('$2')).compile(t.bus.db);
    const plan = await t.bus.db.connection().execute(async (conn) => {
      await sql`SET plan_cache_mode = force_generic_plan`.execute(conn);
      await sql`SET enable_seqscan = off`.execute(conn);
      await sql.raw(`PREPARE plan_probe(jsonb, bigint) AS ${statement.sql}`).execute(conn);
      try {
        const res = await sql<{ 'QUERY PLAN': { Plan: PlanNode }[] }>`
          EXPLAIN (FORMAT JSON) EXECUTE plan_probe('[]'::jsonb, NULL)`.execute(conn);
        return res.rows[0]?.['QUERY PLAN'][0]?.Plan;
      } finally {
        await sql`DEALLOCATE plan_probe`.execute(conn);
        await sql`RESET ALL`.execute(conn);
      }
    });
    expect(plan).toBeDefined();
    const nodes = plan === undefined ? [] : nodesOf(plan);
    const idLookups = nodes.filter((n) => n['Index Name'] === 'events_event_id_key');
    expect(idLookups.length).toBeGreaterThan(0);
    for (const n of idLookups) expect(n['Index Cond']).toMatch(/event_id/);
    expect(
      nodes.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'events'),
    ).toEqual([]);
  });

  it('is the statement append_events runs', async () => {
    const res = await sql<{ src: string; config: string | null }>`
      SELECT prosrc AS src, array_to_string(proconfig, ',') AS config FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ${t.schema} AND p.proname = 'append_events'`.execute(t.bus.db);
    const body = appendStatement(
      t.schema,
      sql.raw('p_events'),
      sql.raw('p_expected_version'),
    ).compile(t.bus.db).sql;
    expect(res.rows[0]?.src).toContain(body);
    expect(res.rows[0]?.config).toBe('enable_seqscan=off');
  });
});
