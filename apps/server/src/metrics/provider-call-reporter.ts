import type { Logger, WorkerProviderError } from '@hodei/domain';
import { isEngineFailure, type ProviderFailureStreaks } from './provider-failure-streaks.js';

/** One call to a provider, as its log line names it. */
export interface ProviderCall {
  readonly provider: string;
  readonly kind: string;
  /** `create`, `stop`, `destroy`, `status`, `list`, `logs`, `health`. */
  readonly operation: string;
  readonly workerId?: string;
}

const fieldsOf = (call: ProviderCall, error: WorkerProviderError): Record<string, unknown> => {
  const { cause, ...described } = error as WorkerProviderError & { readonly cause?: unknown };
  return {
    provider: call.provider,
    kind: call.kind,
    operation: call.operation,
    ...(call.workerId === undefined ? {} : { workerId: call.workerId }),
    error: described,
    ...(cause === undefined ? {} : { cause }),
  };
};

/**
 * What the server says of each provider call: every failed action logged with its cause
 * (engine failures at error, refusals at warn), the failure streaks `/readyz` reads, and a
 * health check's change of outcome (not every failing probe: `/readyz` asks every few seconds).
 */
export class ProviderCallReporter {
  readonly #unhealthy = new Set<string>();

  constructor(
    private readonly logger: Logger,
    readonly streaks: ProviderFailureStreaks,
  ) {}

  succeeded(call: ProviderCall): void {
    if (call.operation === 'health') {
      if (this.#unhealthy.delete(call.provider))
        this.logger.info('provider health check passes again', { provider: call.provider });
      return;
    }
    const was = this.streaks.degradation(call.provider);
    this.streaks.succeeded(call.provider, call.operation);
    if (was !== undefined && this.streaks.degradation(call.provider) === undefined) {
      this.logger.info('provider no longer degraded', {
        provider: call.provider,
        operation: call.operation,
        was,
      });
    }
  }

  failed(call: ProviderCall, error: WorkerProviderError): void {
    const fields = fieldsOf(call, error);
    if (call.operation === 'health') {
      if (this.#unhealthy.has(call.provider)) return;
      this.#unhealthy.add(call.provider);
      this.logger.error('provider health check failed', fields);
      return;
    }
    this.streaks.failed(call.provider, call.operation, error);
    if (isEngineFailure(error)) this.logger.error('provider call failed', fields);
    else this.logger.warn('provider call refused', fields);
  }
}
