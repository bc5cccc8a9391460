import { type Kysely, sql } from 'kysely';
import { ResultAsync } from 'neverthrow';
import type { EventBusDatabase } from '../schema/database.js';
import { qualified } from '../schema/migrations.js';
import type { LogPosition } from '../store/cursor.js';
import { classifyDatabaseError, type QueryError } from '../store/event-store.errors.js';

/**
 * Sets a subscription's checkpoint (creating it when absent), so that it delivers the events
 * after `position` next. It also frees the lease: a consumer in another process then fails its
 * next renewal or checkpoint, stops, and takes the lease again from the new checkpoint (it may
 * deliver what it had in hand meanwhile: delivery is at least once). A consumer in this
 * process is best stopped first and started again after.
 */
export function moveCheckpoint(
  db: Kysely<EventBusDatabase>,
  schema: string,
  name: string,
  position: LogPosition,
): ResultAsync<void, QueryError> {
  return ResultAsync.fromPromise(
    sql`
      INSERT INTO ${qualified(schema, 'subscriptions')} AS s
        (name, checkpoint_transaction_id, checkpoint_position)
      VALUES (${name}, ${position.transactionId}::xid8, ${position.globalPosition}::bigint)
      ON CONFLICT (name) DO UPDATE SET
        checkpoint_transaction_id = excluded.checkpoint_transaction_id,
        checkpoint_position = excluded.checkpoint_position,
        lease_owner = NULL,
        lease_expires_at = NULL,
        updated_at = now()`.execute(db),
    (cause) => classifyDatabaseError(cause, 'moveCheckpoint'),
  ).map(() => undefined);
}
