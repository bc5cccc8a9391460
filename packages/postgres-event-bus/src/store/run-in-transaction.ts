import type { Kysely, Transaction } from 'kysely';
import { err, type Result, ResultAsync } from 'neverthrow';
import {
  classifyDatabaseError,
  type EventStoreFailure,
  type EventStoreUnavailable,
} from './event-store.errors.js';

export type TransactionError = EventStoreUnavailable | EventStoreFailure;

/**
 * Runs `work` in a transaction that commits when it returns Ok and rolls back when it returns
 * Err or throws (kysely's `transaction().execute` alone would commit an Err).
 */
export function runInTransaction<DB, T, E>(
  db: Kysely<DB>,
  work: (trx: Transaction<DB>) => ResultAsync<T, E> | Promise<Result<T, E>>,
): ResultAsync<T, E | TransactionError> {
  const settle = async (): Promise<Result<T, E | TransactionError>> => {
    let trx;
    try {
      trx = await db.startTransaction().execute();
    } catch (cause) {
      return err(classifyDatabaseError(cause, 'begin'));
    }
    let result: Result<T, E | TransactionError>;
    try {
      result = await work(trx);
    } catch (cause) {
      result = err(classifyDatabaseError(cause, 'transaction'));
    }
    if (result.isOk()) {
      try {
        await trx.commit().execute();
      } catch (cause) {
        return err(classifyDatabaseError(cause, 'commit'));
      }
      return result;
    }
    await trx
      .rollback()
      .execute()
      .catch(() => undefined);
    return result;
  };
  return new ResultAsync(settle());
}
