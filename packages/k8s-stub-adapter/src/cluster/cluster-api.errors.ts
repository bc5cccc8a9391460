/** The reasons of the Kubernetes `Status` objects the simulated API server returns. */
export type ApiErrorReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Invalid'
  | 'BadRequest'
  | 'Expired'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface ApiCause {
  readonly field: string;
  readonly message: string;
}

/** A failed API call, shaped like the API server's `Status` (code, reason, message). */
export interface ApiError {
  readonly type: 'KubernetesApiError';
  readonly code: number;
  readonly reason: ApiErrorReason;
  readonly message: string;
  readonly causes: readonly ApiCause[];
}

const CODES: Record<ApiErrorReason, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Invalid: 422,
  BadRequest: 400,
  Expired: 410,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

export const apiError = (
  reason: ApiErrorReason,
  message: string,
  causes: readonly ApiCause[] = [],
): ApiError => ({ type: 'KubernetesApiError', code: CODES[reason], reason, message, causes });

export const notFound = (kind: string, name: string): ApiError =>
  apiError('NotFound', `${kind} "${name}" not found`);

/** Server-side failures a client may retry. */
export const isRetryable = (error: ApiError): boolean =>
  error.reason === 'InternalError' ||
  error.reason === 'ServiceUnavailable' ||
  error.reason === 'Timeout';
