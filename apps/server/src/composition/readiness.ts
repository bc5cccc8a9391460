import type { PostgresEventBus } from '@hodei/postgres-event-bus';
import type { ReadinessCheck } from '../http/app.js';
import type { ProviderEntry } from '../workers/worker-service.js';

/** What /readyz reports: the health of every provider and, when there is one, the database. */
export async function readiness(
  providers: readonly ProviderEntry[],
  bus: PostgresEventBus | undefined,
): Promise<Record<string, ReadinessCheck>> {
  const checks: Record<string, ReadinessCheck> = {};
  await Promise.all(
    providers.map(async (p) => {
      const h = await p.provider.health();
      checks[`provider:${p.id}`] = h.isOk()
        ? { ok: true, detail: h.value.detail }
        : { ok: false, detail: h.error.message };
    }),
  );
  if (bus !== undefined) {
    const head = await bus.store.headCursor();
    checks['database'] = head.isOk()
      ? { ok: true, detail: 'reachable' }
      : { ok: false, detail: head.error.message };
  }
  return checks;
}
