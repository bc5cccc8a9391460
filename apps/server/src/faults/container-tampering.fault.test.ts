import { describe, expect, it } from 'vitest';
import { startChurn } from './churn.js';
import { useFaultRig } from './fault-rig.js';
import { ALL_ZERO, countsOf, loggedEvents } from './invariants.js';
import { excuseOf, livesOf, unreportedRemovals, type Removal } from './life-histories.js';

/**
 * Operators' hands behind the server's back: `docker rm -f`, `docker stop` and `docker pause`
 * of our running containers mid-churn. Nothing may leak or be lost, and a tracked container
 * that is removed must be reported as lost (WorkerLost), not as an exit, unless the server was
 * ending that life itself at the moment (a DELETE or stop in flight, its retention ending).
 */

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Finished workers are kept 5 s: well past the server's 2 s retention-end tolerance, so a
 * removal soon after an exit (`rm -f` kills first, the exit is seen, then the removal) must
 * still be reported as lost. Ids are reused after 60 lives, once their retention is over.
 */
const CHURN = { workers: 120, ids: 60, ttlAfterCompletionSeconds: 5 } as const;

describe('containers removed, stopped and paused behind the server', () => {
  const rig = useFaultRig('container-tampering.fault');

  it('keeps every promise when our containers are removed, stopped and paused', async () => {
    const r = rig();
    const churn = startChurn(r.server, CHURN);
    const removed: Removal[] = [];
    let stopped = 0;
    let paused = 0;
    for (let round = 0; round < 8; round += 1) {
      await sleep(2000);
      const running = await r.engine.docker.listContainers({
        filters: { label: [`hodei.provider-id=${r.server.providerId}`], status: ['running'] },
      });
      const [a, b, c] = running;
      if (a !== undefined) {
        // Only a removal that happened counts: the server may have removed it meanwhile.
        const done = await r.engine.docker
          .getContainer(a.Id)
          .remove({ force: true })
          .then(() => true)
          .catch(() => false);
        if (done) removed.push({ resourceId: a.Id, doneAt: Date.now() });
      }
      if (b !== undefined) {
        await r.engine.docker
          .getContainer(b.Id)
          .stop({ t: 0 })
          .catch(() => undefined);
        stopped += 1;
      }
      if (c !== undefined) {
        await r.engine.docker
          .getContainer(c.Id)
          .pause()
          .catch(() => undefined);
        paused += 1;
      }
    }
    const report = await churn.done;
    const checked = await r.check('container-tampering', report);
    const { lives } = livesOf(await loggedEvents(r.postgres.url, r.server.providerId));
    const unreported = unreportedRemovals(removed, lives);
    const lifeOf = (x: Removal) => lives.find((l) => l.resourceId.startsWith(x.resourceId));
    const reported = removed.filter((x) =>
      lifeOf(x)?.events.some((e) => e.type === 'WorkerLost'),
    ).length;
    const excuses = removed.flatMap((x) => {
      const life = lifeOf(x);
      if (life === undefined || life.events.some((e) => e.type === 'WorkerLost')) return [];
      return [excuseOf(x, life) ?? 'none'];
    });
    console.log(
      `container-tampering: removed ${removed.length} (reported lost ${reported}, not: ${excuses.join(', ') || 'none'}), stopped ${stopped}, paused ${paused}`,
    );
    expect(report.created).toBeGreaterThanOrEqual(100);
    expect(countsOf(checked)).toEqual(ALL_ZERO);
    expect(unreported).toEqual([]);
    // The scenario must exercise the loss itself, not only its excuses.
    expect(reported).toBeGreaterThan(0);
  }, 400_000);
});
