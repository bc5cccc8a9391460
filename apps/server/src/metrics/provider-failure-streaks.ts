import type { WorkerProviderError } from '@hodei/domain';

/**
 * Failures the engine is to blame for: it cannot be reached, does not answer in time, or
 * fails on its side (a missing network or bridge fails every create as a non-retryable
 * ProviderFailure). A refused spec, a name conflict or a missing container say nothing about
 * whether the provider works, nor does a pull: the registry is the one the client chose
 * (unreachable, slow, a typo in its name).
 */
export const isEngineFailure = (error: WorkerProviderError): boolean => {
  if ('operation' in error && error.operation === 'pullImage') return false;
  return (
    error.type === 'ProviderUnavailable' ||
    error.type === 'ProviderTimeout' ||
    error.type === 'ProviderFailure'
  );
};

/**
 * The operations whose failures in a row make a provider degraded: those every worker needs.
 * A stop or a removal failing again and again is usually one container the engine cannot
 * let go of; it is logged, but the provider still starts workers.
 */
const DEGRADING_OPERATIONS: ReadonlySet<string> = new Set(['create', 'list']);

/** When a provider counts as degraded: `afterFailures` in a row, the last within `forMs`. */
export interface DegradationRule {
  readonly afterFailures: number;
  readonly forMs: number;
}

interface Streak {
  count: number;
  readonly sinceMs: number;
  lastMs: number;
  message: string;
}

/**
 * Engine failures in a row per provider and operation (create, stop, …), for `/readyz`: a
 * provider whose every create fails is not ready even though its engine answers health
 * checks. A success of the operation ends its streak; a streak whose last failure is older
 * than the rule's period is ignored, so a server nobody sends work to any more (taken out of
 * its load balancer) becomes ready again and gets the chance to succeed.
 */
export class ProviderFailureStreaks {
  readonly #streaks = new Map<string, Map<string, Streak>>();

  constructor(
    private readonly rule: DegradationRule,
    private readonly now: () => number = Date.now,
  ) {}

  succeeded(provider: string, operation: string): void {
    this.#streaks.get(provider)?.delete(operation);
  }

  /** Counts an engine failure; other failures leave the streak as it is. */
  failed(provider: string, operation: string, error: WorkerProviderError): void {
    if (!isEngineFailure(error) || !DEGRADING_OPERATIONS.has(operation)) return;
    let operations = this.#streaks.get(provider);
    if (operations === undefined) {
      operations = new Map();
      this.#streaks.set(provider, operations);
    }
    const now = this.now();
    const streak = operations.get(operation);
    if (streak === undefined) {
      operations.set(operation, { count: 1, sinceMs: now, lastMs: now, message: error.message });
      return;
    }
    streak.count += 1;
    streak.lastMs = now;
    streak.message = error.message;
  }

  /** Why the provider is degraded (the longest streak that counts), or undefined. */
  degradation(provider: string): string | undefined {
    const now = this.now();
    let worst: [string, Streak] | undefined;
    for (const [operation, streak] of this.#streaks.get(provider) ?? []) {
      if (streak.count < this.rule.afterFailures || now - streak.lastMs > this.rule.forMs) continue;
      if (worst === undefined || streak.count > worst[1].count) worst = [operation, streak];
    }
    if (worst === undefined) return undefined;
    const [operation, streak] = worst;
    const times = streak.count === 1 ? 'once' : `${streak.count} times`;
    return `degraded: ${operation} failed ${times} since ${new Date(streak.sinceMs).toISOString()}: ${streak.message}`;
  }
}
