import type {
  DestroyOptions,
  LogOptions,
  ProviderWatchEvent,
  WatchSubscription,
  WorkerHandle,
  WorkerProvider,
  WorkerSpec,
} from '@hodei/domain';
import type { ResultAsync } from 'neverthrow';
import type { Metrics } from './metrics.js';

/** Times every call to a provider into `hodei_provider_call_duration_seconds`. */
export function instrumentProvider(
  provider: WorkerProvider,
  kind: string,
  metrics: Metrics,
): WorkerProvider {
  const timed = <T, E>(operation: string, call: () => ResultAsync<T, E>): ResultAsync<T, E> => {
    const end = metrics.providerCallDuration.startTimer({
      provider: provider.providerId,
      kind,
      operation,
    });
    return call()
      .map((value) => {
        end({ outcome: 'ok' });
        return value;
      })
      .mapErr((error) => {
        end({ outcome: 'error' });
        return error;
      });
  };
  const watch = provider.watch?.bind(provider);
  return {
    providerId: provider.providerId,
    createWorker: (spec: WorkerSpec) => timed('create', () => provider.createWorker(spec)),
    stopWorker: (handle: WorkerHandle, options: DestroyOptions) =>
      timed('stop', () => provider.stopWorker(handle, options)),
    destroyWorker: (handle: WorkerHandle, options: DestroyOptions) =>
      timed('destroy', () => provider.destroyWorker(handle, options)),
    getWorkerStatus: (handle: WorkerHandle) =>
      timed('status', () => provider.getWorkerStatus(handle)),
    listManagedWorkers: () => timed('list', () => provider.listManagedWorkers()),
    logs: (handle: WorkerHandle, options?: LogOptions) =>
      timed('logs', () => provider.logs(handle, options)),
    health: () => timed('health', () => provider.health()),
    ...(watch === undefined
      ? {}
      : {
          watch: (listener: (event: ProviderWatchEvent) => void): WatchSubscription =>
            watch(listener),
        }),
  };
}
