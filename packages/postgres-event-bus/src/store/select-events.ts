import type { QueryExecutorProvider } from 'kysely';
import { err, ok, ResultAsync } from 'neverthrow';
import { type EventRowOutput, fromEventRow, type StoredEvent } from './event-row.js';
import {
  classifyDatabaseError,
  type EventStoreFailure,
  type QueryError,
} from './event-store.errors.js';

/** A compiled read query whose rows are events as `eventColumns` selects them. */
export interface EventQuery {
  execute(executor: QueryExecutorProvider): Promise<{ rows: EventRowOutput[] }>;
}

/** Runs an event query and reads each row back into a stored event; a bad row fails it all. */
export function selectEvents(
  query: EventQuery,
  operation: string,
  executor: QueryExecutorProvider,
): ResultAsync<StoredEvent[], QueryError> {
  return ResultAsync.fromPromise(query.execute(executor), (cause) =>
    classifyDatabaseError(cause, operation),
  ).andThen((res) => {
    const out: StoredEvent[] = [];
    for (const row of res.rows) {
      const stored = fromEventRow(row);
      if (stored.isErr()) {
        return err<never, EventStoreFailure>({
          type: 'EventStoreFailure',
          message: `${operation}: stored event ${row.event_id} is unreadable: ${stored.error.message}`,
          retryable: false,
        });
      }
      out.push(stored.value);
    }
    return ok(out);
  });
}
