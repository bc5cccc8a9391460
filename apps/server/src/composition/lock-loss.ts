import type { Logger } from '@hodei/domain';
import type { ProviderEntry } from '../workers/worker-service.js';
import type { ActingGate } from './acting-gate.js';
import type { ProviderLocks } from './provider-locks.js';
import type { ProviderWatches } from './provider-watches.js';

export interface LockLossDeps {
  readonly locks: ProviderLocks;
  readonly gate: ActingGate;
  readonly providers: readonly ProviderEntry[];
  readonly watches: ProviderWatches;
  readonly logger: Logger;
}

/**
 * While the provider locks are lost another server may hold them and act on the same
 * workers: this one stops acting (API writes 503, passes and the watch idle, provider changes
 * refused) until they are retaken, then recovers every provider anew (the other may have
 * created or removed workers meanwhile) before it acts again.
 */
export function actOnlyWithLocks(deps: LockLossDeps): void {
  const { locks, gate, providers, watches } = deps;
  // Counts the changes: a recovery begun before the latest one is no longer this server's.
  let epoch = 0;
  locks.onChange((held) => {
    epoch += 1;
    if (!held) {
      gate.close('provider lock lost');
      watches.close();
      for (const p of providers) p.lifecycle?.recovery.reset();
      return;
    }
    gate.close('recovering');
    gate.open('provider lock lost');
    const mine = epoch;
    recoverThenAct(deps, () => mine === epoch);
  });
}

export type RecoverDeps = Pick<LockLossDeps, 'gate' | 'providers' | 'watches' | 'logger'>;

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * Recovers every provider, then opens the gate's 'recovering'; while one is not recovered
 * (its engine is down, or recovery threw) the gate stays closed and it tries again with a
 * bounded backoff. Stops, leaving the gate as it is, once `current` says a later change of
 * the locks took over, or the server shuts down.
 */
export function recoverThenAct(
  deps: RecoverDeps,
  current: () => boolean,
  delayMs = FIRST_RETRY_MS,
): void {
  void recoverAgain(deps).then((recovered) => {
    if (!current() || deps.gate.isClosedFor('shutting down')) return;
    if (recovered) {
      deps.gate.open('recovering');
      return;
    }
    const timer = setTimeout(
      () => recoverThenAct(deps, current, Math.min(delayMs * 2, MAX_RETRY_MS)),
      delayMs,
    );
    timer.unref();
  });
}

/** Whether every provider is recovered now; a recovery that throws counts as not recovered. */
async function recoverAgain({ providers, watches, logger, gate }: RecoverDeps): Promise<boolean> {
  if (gate.isClosedFor('shutting down')) return false;
  watches.start();
  let all = true;
  for (const p of providers) {
    const recovered = await p.lifecycle?.recovery.ensure().catch((cause: unknown) => {
      logger.error('recovery threw', { provider: p.id, error: String(cause) });
      return false;
    });
    if (recovered === false) {
      all = false;
      logger.warn('provider not recovered yet; this server does not act', { provider: p.id });
    }
  }
  return all;
}
