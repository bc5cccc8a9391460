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
  const { locks, gate, providers, watches, logger } = deps;
  locks.onChange((held) => {
    if (!held) {
      gate.close('provider lock lost');
      watches.close();
      for (const p of providers) p.lifecycle?.recovery.reset();
      return;
    }
    gate.close('recovering');
    gate.open('provider lock lost');
    void recoverAgain(deps).then(
      () => gate.open('recovering'),
      (cause: unknown) => {
        logger.error('recovery after the provider locks came back threw', {
          error: String(cause),
        });
        gate.open('recovering');
      },
    );
  });
}

async function recoverAgain({ providers, watches, logger, gate }: LockLossDeps): Promise<void> {
  if (gate.isClosedFor('shutting down')) return;
  watches.start();
  for (const p of providers) {
    const recovered = await p.lifecycle?.recovery.ensure();
    if (recovered === false)
      logger.warn('provider not recovered yet; its passes wait', { provider: p.id });
  }
}
