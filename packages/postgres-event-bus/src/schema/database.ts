import type { ColumnType, Generated } from 'kysely';

/** Row shapes of the bus's tables; bigint and xid8 columns come back from pg as strings. */
export interface EventsTable {
  global_position: ColumnType<string, never, never>;
  transaction_id: ColumnType<string, never, never>;
  event_id: string;
  type: string;
  source: string;
  subject: string | null;
  provider_id: string;
  stream_id: string;
  stream_position: ColumnType<string, number, never>;
  time: ColumnType<Date, string, never>;
  recorded_at: ColumnType<Date, never, never>;
  data: ColumnType<Record<string, unknown>, string, never>;
  metadata: ColumnType<Record<string, unknown>, string, never>;
  /** Set from `metadata` on insert (migration 0005); NULL on older rows until backfilled. */
  actor: ColumnType<string | null, never, never>;
  correlation_id: ColumnType<string | null, never, never>;
}

export interface SubscriptionsTable {
  name: string;
  checkpoint_transaction_id: ColumnType<string, string, string>;
  checkpoint_position: ColumnType<string, string, string>;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  updated_at: Generated<Date>;
}

export interface DeadLettersTable {
  id: Generated<string>;
  subscription_name: string;
  event_id: string;
  global_position: string;
  transaction_id: string;
  error: string;
  attempts: number;
  first_failed_at: Date;
  last_failed_at: Date;
  replay_requested_at: Date | null;
  resolved_at: Date | null;
}

export interface EventBusDatabase {
  events: EventsTable;
  subscriptions: SubscriptionsTable;
  dead_letters: DeadLettersTable;
}
