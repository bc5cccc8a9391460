import { err, type Result } from 'neverthrow';
import { PostgresEventBus, type InvalidEventBusConfig, type MigrationError } from './event-bus.js';
import type { PruneError, PruneOptions, PruneReport } from './store/prune-events.js';

export interface PruneEventsBeforeOptions extends PruneOptions {
  /** Schema of the bus's tables (default `hodei`). */
  readonly schema?: string;
}

/**
 * Retention from outside the server (`hodei events prune --before`): connects, brings the
 * schema up to date (the prune function is migration 0005), deletes the events of the worker
 * lives that ended (cleaned up) before `before` and the GC and orphan reports older than it,
 * disconnects.
 */
export async function pruneEventsBefore(
  databaseUrl: string,
  before: Date,
  options: PruneEventsBeforeOptions = {},
): Promise<Result<PruneReport, PruneError | MigrationError | InvalidEventBusConfig>> {
  const created = PostgresEventBus.create({
    connectionString: databaseUrl,
    listen: false,
    notify: false,
    poolSize: 2,
    applicationName: 'hodei-prune',
    ...(options.schema === undefined ? {} : { schema: options.schema }),
  });
  if (created.isErr()) return err(created.error);
  const bus = created.value;
  try {
    return await bus.ready().andThen(() => bus.store.pruneEventsBefore(before, options));
  } finally {
    await bus.close();
  }
}
