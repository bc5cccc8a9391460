import type { ProviderId, WorkerProviderError } from '@hodei/domain';
import type { ApiError } from '../cluster/cluster-api.errors.js';

export interface ApiErrorContext {
  readonly providerId: ProviderId;
  readonly endpoint: string;
  readonly operation: string;
  /** The client-side request timeout a 504 stands for. */
  readonly requestTimeoutMs: number;
}

/** The port's error for a failed API call; callers handle NotFound and AlreadyExists first. */
export function mapApiError(error: ApiError, context: ApiErrorContext): WorkerProviderError {
  switch (error.reason) {
    case 'ServiceUnavailable':
      return {
        type: 'ProviderUnavailable',
        providerId: context.providerId,
        endpoint: context.endpoint,
        message: `Kubernetes API at ${context.endpoint} unavailable during ${context.operation}: ${error.message}`,
        retryable: true,
        cause: error,
      };
    case 'Timeout':
      return {
        type: 'ProviderTimeout',
        operation: context.operation,
        timeoutMs: context.requestTimeoutMs,
        message: `Kubernetes API call ${context.operation} timed out: ${error.message}`,
        retryable: true,
      };
    case 'InternalError':
    case 'Expired':
      return {
        type: 'ProviderFailure',
        operation: context.operation,
        message: `Kubernetes API call ${context.operation} failed: ${error.message}`,
        retryable: true,
        cause: error,
      };
    case 'NotFound':
    case 'AlreadyExists':
    case 'Invalid':
    case 'BadRequest':
      return {
        type: 'ProviderFailure',
        operation: context.operation,
        message: `Kubernetes API call ${context.operation} rejected (${error.code} ${error.reason}): ${error.message}`,
        retryable: false,
        cause: error,
      };
  }
}
