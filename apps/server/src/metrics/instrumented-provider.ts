import type {
  DestroyOptions,
  LogOptions,
  ProviderWatchEvent,
  WatchSubscription,
  WorkerHandle,
  WorkerProvider,
  WorkerProviderError,
  WorkerSpec,
} from '@hodei/domain';
import type { ResultAsync } from 'neverthrow';
import type { Metrics } from './metrics.js';

/**
 * Times every call to a provider into `hodei_provider_call_duration_seconds` and reports its
 * outcome: failures logged with their cause, failure streaks kept for `/readyz`.
 */
export function instrumentProvider(
  provider: WorkerProvider,
  kind: string,
  metrics: Metrics,
): WorkerProvider {
  const timed = <T>(
    operation: string,
    workerId: string | undefined,
    call: () => ResultAsync<T, WorkerProviderError>,
  ): ResultAsync<T, WorkerProviderError> => {
    const end = metrics.providerCallDuration.startTimer({
      provider: provider.providerId,
      kind,
      operation,
    });
    const described = {
      provider: provider.providerId,
      kind,
      operation,
      ...(workerId === undefined ? {} : { workerId }),
    };
    return call()
      .map((value) => {
        end({ outcome: 'ok' });
        metrics.providerCalls.succeeded(described);
        return value;
      })
      .mapErr((error) => {
        end({ outcome: 'error' });
        metrics.providerCalls.failed(described, error);
        return error;
      });
  };
  const watch = provider.watch?.bind(provider);
  return {
    providerId: provider.providerId,
    createWorker: (spec: WorkerSpec) =>
      timed('create', spec.workerId, () => provider.createWorker(spec)),
    stopWorker: (handle: WorkerHandle, options: DestroyOptions) =>
      timed('stop', handle.workerId, () => provider.stopWorker(handle, options)),
    destroyWorker: (handle: WorkerHandle, options: DestroyOptions) =>
      timed('destroy', handle.workerId, () => provider.destroyWorker(handle, options)),
    getWorkerStatus: (handle: WorkerHandle) =>
      timed('status', handle.workerId, () => provider.getWorkerStatus(handle)),
    listManagedWorkers: () => timed('list', undefined, () => provider.listManagedWorkers()),
    logs: (handle: WorkerHandle, options?: LogOptions) =>
      timed('logs', handle.workerId, () => provider.logs(handle, options)),
    health: () => timed('health', undefined, () => provider.health()),
    ...(watch === undefined
      ? {}
      : {
          watch: (listener: (event: ProviderWatchEvent) => void): WatchSubscription =>
            watch(listener),
        }),
  };
}
