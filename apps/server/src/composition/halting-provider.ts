import type { WorkerProvider, WorkerProviderError } from '@hodei/domain';
import { errAsync, type ResultAsync } from 'neverthrow';
import type { ActingGate } from './acting-gate.js';

/**
 * The provider with its changes (create, stop, destroy) refused while the gate is closed: a
 * pass under way when shutdown starts or the provider lock is lost then runs through its
 * remaining workers without acting on them (each a failed action, retried by a later pass or
 * the next start), and so ends soon and publishes what it did before the publishers close.
 * Reads, logs and the watch go on.
 */
export function haltingProvider(provider: WorkerProvider, gate: ActingGate): WorkerProvider {
  const refusedOr = <T>(
    call: () => ResultAsync<T, WorkerProviderError>,
  ): ResultAsync<T, WorkerProviderError> =>
    gate.acting
      ? call()
      : errAsync({
          type: 'ProviderUnavailable',
          providerId: provider.providerId,
          endpoint: provider.providerId,
          message: `provider ${provider.providerId} does not act now: ${gate.why ?? ''}`,
          retryable: true,
        });
  const watch = provider.watch?.bind(provider);
  return {
    providerId: provider.providerId,
    createWorker: (spec) => refusedOr(() => provider.createWorker(spec)),
    stopWorker: (handle, options) => refusedOr(() => provider.stopWorker(handle, options)),
    destroyWorker: (handle, options) => refusedOr(() => provider.destroyWorker(handle, options)),
    getWorkerStatus: (handle) => provider.getWorkerStatus(handle),
    listManagedWorkers: () => provider.listManagedWorkers(),
    logs: (handle, options) => provider.logs(handle, options),
    health: () => provider.health(),
    ...(watch === undefined ? {} : { watch }),
  };
}
