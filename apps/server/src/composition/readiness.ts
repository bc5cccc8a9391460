import type { PostgresEventBus } from '@hodei/postgres-event-bus';
import type { ReadinessCheck } from '../http/app.js';
import { checkProvider } from '../metrics/provider-check.js';
import type { ProviderFailureStreaks } from '../metrics/provider-failure-streaks.js';
import type { ProviderEntry } from '../workers/worker-service.js';
import type { ActingGate } from './acting-gate.js';

/**
 * What /readyz reports: every provider — its health check, and whether its calls keep
 * failing (`degraded: create failed 3 times since …: <cause>`) — and, when there is one, the
 * database; and, while this server does not act, why (`acting`).
 */
export async function readiness(
  providers: readonly ProviderEntry[],
  bus: PostgresEventBus | undefined,
  streaks: ProviderFailureStreaks,
  gate?: ActingGate,
): Promise<Record<string, ReadinessCheck>> {
  const checks: Record<string, ReadinessCheck> = {};
  await Promise.all(
    providers.map(async (p) => {
      checks[`provider:${p.id}`] = await checkProvider(p, streaks);
    }),
  );
  if (bus !== undefined) {
    const head = await bus.store.headCursor();
    checks['database'] = head.isOk()
      ? { ok: true, detail: 'reachable' }
      : { ok: false, detail: head.error.message };
  }
  if (gate !== undefined && !gate.acting) checks['acting'] = { ok: false, detail: gate.why ?? '' };
  return checks;
}
