import { err, ok, type Result } from 'neverthrow';

declare const workerIdBrand: unique symbol;
declare const providerIdBrand: unique symbol;

/** A worker's id: DNS-safe, at most 50 characters so `hodei-worker-<id>` fits 63. */
export type WorkerId = string & { readonly [workerIdBrand]: true };
/** A provider's id, same syntax as a worker id. */
export type ProviderId = string & { readonly [providerIdBrand]: true };

export interface InvalidId {
  readonly type: 'InvalidId';
  readonly kind: 'WorkerId' | 'ProviderId';
  readonly value: string;
  readonly message: string;
}

const ID_PATTERN = /^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$/;

const invalidId = (kind: InvalidId['kind'], value: unknown): InvalidId => ({
  type: 'InvalidId',
  kind,
  value: String(value),
  message: `${kind} must be 1 to 50 lowercase letters, digits or '-', starting and ending with a letter or digit; got ${JSON.stringify(value)}`,
});

export function parseWorkerId(value: unknown): Result<WorkerId, InvalidId> {
  return typeof value === 'string' && ID_PATTERN.test(value)
    ? ok(value as WorkerId)
    : err(invalidId('WorkerId', value));
}

export function parseProviderId(value: unknown): Result<ProviderId, InvalidId> {
  return typeof value === 'string' && ID_PATTERN.test(value)
    ? ok(value as ProviderId)
    : err(invalidId('ProviderId', value));
}
