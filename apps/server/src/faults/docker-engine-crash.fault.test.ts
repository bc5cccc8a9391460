import { describe, expect, it } from 'vitest';
import { startChurn } from './churn.js';
import { useFaultRig } from './fault-rig.js';
import { ALL_ZERO, countsOf, restartDecoys } from './invariants.js';

/**
 * The Docker Engine crashes mid-churn (`kill -9` of dockerd, which takes its containerd and
 * containers with it) and comes back: no container may leak (item 2: a create cut short
 * leaves one in `created`), no tracked worker may be left without its container, and every
 * life in the log must stay whole.
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('dockerd killed with SIGKILL mid-churn and restarted', () => {
  const rig = useFaultRig('docker-engine-crash.fault');

  it('keeps every promise across an engine crash', async () => {
    const r = rig();
    const churn = startChurn(r.server, { workers: 120 });
    await sleep(8000);
    await r.engine.kill9();
    await sleep(4000);
    await r.engine.restart();
    const decoys = await r.engine.docker.listContainers({
      all: true,
      filters: { id: [r.decoys.unlabelled] },
    });
    console.log(
      `docker-engine-crash: the unlabelled decoy after the engine restart: ${decoys[0]?.Status}`,
    );
    await restartDecoys(r.engine, r.decoys);
    const report = await churn.done;
    // The watch reconnects and a reconciliation runs before the checker's own two passes.
    await sleep(3000);
    const checked = await r.check('docker-engine-crash', report);
    expect(report.created).toBeGreaterThanOrEqual(100);
    expect(countsOf(checked)).toEqual(ALL_ZERO);
  }, 400_000);
});
