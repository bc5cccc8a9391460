import { describe, expect, it } from 'vitest';
import { startChurn } from './churn.js';
import { useFaultRig } from './fault-rig.js';
import { ALL_ZERO, countsOf } from './invariants.js';

/**
 * PostgreSQL crashes (`pg_ctl stop -m immediate`) for 20 s mid-churn: the spool must keep
 * every event and replay it when the database is back, and the API must answer only 2xx,
 * 4xx or a documented 503 meanwhile.
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('PostgreSQL stopped -m immediate for 20 s mid-churn', () => {
  const rig = useFaultRig('postgres-outage.fault');

  it('keeps every promise across a database outage', async () => {
    const r = rig();
    const churn = startChurn(r.server, { workers: 120 });
    await sleep(6000);
    await r.postgres.stopImmediate();
    await sleep(20_000);
    await r.postgres.start();
    const report = await churn.done;
    // The spool replays once the publisher reconnects.
    await sleep(5000);
    const checked = await r.check('postgres-outage', report);
    expect(report.created).toBeGreaterThanOrEqual(100);
    expect(countsOf(checked)).toEqual(ALL_ZERO);
  }, 400_000);
});
