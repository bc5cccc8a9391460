/**
 * Ports for the domain's benchmarks (not shipped from the package): a provider whose calls
 * cost nothing, each replaceable, and a publisher that drops every event, so what a benchmark
 * measures is the manager itself. Workers are tracked directly, never created through it.
 */
import { errAsync, okAsync } from 'neverthrow';
import type { LifecycleEventPublisher } from '../ports/event-publisher.port.js';
import type { WorkerProvider } from '../ports/worker-provider.port.js';
import type { ProviderId } from '../worker/ids.js';

export function benchProvider(overrides: Partial<WorkerProvider> = {}): WorkerProvider {
  return {
    providerId: 'bench' as ProviderId,
    createWorker: () =>
      errAsync({
        type: 'InvalidWorkerSpec',
        message: 'benchmarks track their workers directly',
        problems: [],
      }),
    stopWorker: () => okAsync(undefined),
    destroyWorker: () => okAsync(undefined),
    getWorkerStatus: () =>
      okAsync({ state: 'exited', exitCode: 0, finishedAt: null, oomKilled: false }),
    listManagedWorkers: () => okAsync([]),
    logs: () => okAsync((async function* () {})()),
    health: () => okAsync({ providerId: 'bench' as ProviderId, detail: 'bench' }),
    ...overrides,
  };
}

export const droppingPublisher: LifecycleEventPublisher = {
  publish: () => okAsync(undefined),
  publishBatch: () => okAsync(undefined),
  close: () => okAsync(undefined),
};
