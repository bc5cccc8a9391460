import { describe, expect, it } from 'vitest';
import { startChurn } from './churn.js';
import { useFaultRig, type FaultRig } from './fault-rig.js';
import { ALL_ZERO, countsOf } from './invariants.js';

/**
 * SIGTERM under load (item 5d): many workers, a GC pass in flight and the churn running. The
 * process must exit by itself (a generous 30 s before the test would kill it), no event may
 * be refused by a closed publisher, every acknowledged operation must be in the log, and the
 * promises must hold after a restart.
 */

const KILL_AFTER_MS = 30_000;
const IDLE_AGENTS = 40;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const call = (r: FaultRig, method: string, path: string, body?: unknown) =>
  fetch(`${r.server.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${r.server.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then(
    (res) => res.status,
    () => 0,
  );

describe('SIGTERM under load', () => {
  const rig = useFaultRig('sigterm.fault');

  it('exits by itself with nothing lost, and keeps every promise after a restart', async () => {
    const r = rig();
    // Agents left idle past a short timeout: the GC has stops to make when SIGTERM comes.
    const statuses = await Promise.all(
      Array.from({ length: IDLE_AGENTS }, (_, i) =>
        call(r, 'POST', '/v1/workers', {
          id: `idle-${i}`,
          mode: 'agent',
          command: ['sleep', '600'],
          policy: {
            idleTimeoutSeconds: 2,
            gracefulTerminationTimeoutSeconds: 1,
            ttlAfterCompletionSeconds: 1,
          },
        }),
      ),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(IDLE_AGENTS);
    await Promise.all(
      Array.from({ length: IDLE_AGENTS }, (_, i) => call(r, 'POST', `/v1/workers/idle-${i}/ready`)),
    );
    const churn = startChurn(r.server, { workers: 120 });
    await sleep(4000);
    void call(r, 'POST', '/v1/gc');
    const sentAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      r.server.sigterm().then((exit) => ({ byItself: true, exit })),
      new Promise<{ byItself: false }>((resolve) => {
        timer = setTimeout(() => resolve({ byItself: false }), KILL_AFTER_MS);
      }),
    ]);
    clearTimeout(timer);
    console.log(
      `sigterm.fault: exited ${outcome.byItself ? 'by itself' : 'NOT by itself'} after ${Date.now() - sentAt} ms` +
        (outcome.byItself ? ` (${JSON.stringify(outcome.exit)})` : ''),
    );
    if (!outcome.byItself) await r.server.kill9();
    const log = r.server.logText();
    await r.server.restart();
    const report = await churn.done;
    await sleep(3000);
    const checked = await r.check('sigterm', report);
    expect(outcome.byItself).toBe(true);
    expect(log).not.toContain('publisher is closed');
    expect(report.created).toBeGreaterThanOrEqual(100);
    expect(countsOf(checked)).toEqual(ALL_ZERO);
  }, 400_000);
});
