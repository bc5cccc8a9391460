import type { WatchSubscription } from '@hodei/domain';
import type { ProviderEntry } from '../workers/worker-service.js';

/** The watches of every provider's manager: closed while the server must not act, reopened after. */
export class ProviderWatches {
  #open: WatchSubscription[] = [];

  constructor(private readonly providers: readonly ProviderEntry[]) {}

  /** Subscribes each manager to its provider's push notifications (once: a second call is a no-op). */
  start(): void {
    if (this.#open.length > 0) return;
    for (const entry of this.providers) {
      const watch = entry.lifecycle?.manager.startWatching();
      if (watch !== undefined) this.#open.push(watch);
    }
  }

  close(): void {
    for (const w of this.#open.splice(0)) w.close();
  }
}
