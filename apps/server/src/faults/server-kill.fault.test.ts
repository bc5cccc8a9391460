import { describe, expect, it } from 'vitest';
import { startChurn } from './churn.js';
import { useFaultRig } from './fault-rig.js';
import { ALL_ZERO, countsOf } from './invariants.js';

/**
 * The server is killed with SIGKILL mid-churn, with creates in flight, and started again on
 * the same data dir and database (item 5e): no container may leak, no tracked worker may be
 * left without its container, a create cut short must still give a life that starts with
 * `Created`, and jobs that exit while the server is down must have their exit recorded with
 * its code.
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('the server killed with SIGKILL mid-churn and restarted', () => {
  const rig = useFaultRig('server-kill.fault');

  it('keeps every promise across a server crash', async () => {
    const r = rig();
    const churn = startChurn(r.server, { workers: 120 });
    await sleep(6000);
    // Eight lives at once, each starting with a create: several creates are in flight now.
    await r.server.kill9();
    // Jobs started before the kill exit meanwhile (each within a second).
    await sleep(3000);
    await r.server.restart();
    const report = await churn.done;
    await sleep(3000);
    const checked = await r.check('server-kill', report);
    expect(report.created).toBeGreaterThanOrEqual(100);
    expect(report.connectionErrors).toBeGreaterThan(0);
    expect(countsOf(checked)).toEqual(ALL_ZERO);
  }, 400_000);
});
