import { err, type Result } from 'neverthrow';
import type { Logger } from '../ports/logger.port.js';
import type { LifecycleCounters } from './lifecycle-counters.js';
import type { LifecycleError } from './lifecycle.errors.js';

/**
 * A pass as a Result even when something under it throws (a port that throws instead of
 * returning `Err`): logged, and returned as a retryable failure of that pass, never a
 * rejection that a caller could leave unhandled.
 */
export async function settledPass<T>(
  name: string,
  { logger, counters }: { readonly logger: Logger; readonly counters: LifecycleCounters },
  pass: () => Promise<Result<T, LifecycleError>>,
): Promise<Result<T, LifecycleError>> {
  try {
    return await pass();
  } catch (cause) {
    counters.thrown += 1;
    const message = cause instanceof Error ? cause.message : String(cause);
    try {
      logger.error('a lifecycle pass threw', { pass: name, error: message });
    } catch {
      // a logger that throws: the pass's result says it all
    }
    return err({
      type: 'ProviderFailure',
      operation: name,
      message: `the ${name} threw: ${message}`,
      retryable: true,
      cause,
    });
  }
}
