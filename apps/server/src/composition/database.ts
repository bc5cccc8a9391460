import { resolve } from 'node:path';
import type { Logger } from '@hodei/domain';
import { systemClock } from '@hodei/domain/system';
import { EventBusPublisher, PostgresEventBus, redactDatabaseUrl } from '@hodei/postgres-event-bus';
import { err, ok, type Result } from 'neverthrow';
import type { DependencyContainer } from 'tsyringe';
import type { ServerConfig } from '../config/config.js';
import { ProviderLocks } from './provider-locks.js';
import { startFailed, type StartError } from './server.errors.js';
import type { ShutdownList } from './shutdown-list.js';
import { TOKENS } from './tokens.js';

/** The PostgreSQL side of the server; all of it absent without DATABASE_URL. */
export interface Database {
  readonly bus: PostgresEventBus | undefined;
  readonly busPublisher: EventBusPublisher | undefined;
  readonly locks: ProviderLocks | undefined;
}

const NO_DATABASE: Database = { bus: undefined, busPublisher: undefined, locks: undefined };

/**
 * Opens the event bus (running its migrations), replays the spool of an earlier run and takes
 * the provider locks, in that order. What it opened goes on `shutdown`; on failure it closes
 * everything on `shutdown` itself.
 */
export async function openDatabase(
  config: ServerConfig,
  logger: Logger,
  shutdown: ShutdownList,
): Promise<Result<Database, StartError>> {
  if (config.databaseUrl === undefined) return ok(NO_DATABASE);
  const bus = await openEventBus(config.databaseUrl, logger);
  if (bus.isErr()) return err(bus.error);
  shutdown.add('event bus', () => bus.value.close());
  const busPublisher = await openSpool(config, bus.value, logger);
  if (busPublisher.isErr()) {
    await shutdown.closeAll();
    return err(busPublisher.error);
  }
  const locks = await ProviderLocks.acquire(
    config.databaseUrl,
    config.providers.map((p) => p.id),
    logger,
  );
  if (locks.isErr()) {
    if (busPublisher.value !== undefined) await busPublisher.value.close();
    await shutdown.closeAll();
    return err(startFailed(locks.error.message));
  }
  shutdown.add('provider locks', () => locks.value.release());
  return ok({ bus: bus.value, busPublisher: busPublisher.value, locks: locks.value });
}

export function registerDatabase(c: DependencyContainer, database: Database): void {
  // Factories, not values: tsyringe does not count `useValue: undefined` as a provider.
  c.register(TOKENS.eventBus, { useFactory: () => database.bus });
  c.register(TOKENS.busPublisher, { useFactory: () => database.busPublisher });
  c.register(TOKENS.providerLocks, { useFactory: () => database.locks });
}

/** The event bus with its migrations run; closed again when they fail. */
async function openEventBus(
  databaseUrl: string,
  logger: Logger,
): Promise<Result<PostgresEventBus, StartError>> {
  const created = PostgresEventBus.create({
    connectionString: databaseUrl,
    applicationName: 'hodei-server',
    logger,
  });
  if (created.isErr()) return err(startFailed(created.error.message));
  const bus = created.value;
  const migrated = await bus.ready();
  if (migrated.isErr()) {
    await bus.close();
    return err(
      startFailed(
        `PostgreSQL at ${redactDatabaseUrl(databaseUrl)} (DATABASE_URL): ${migrated.error.message}`,
      ),
    );
  }
  return ok(bus);
}

/** The publisher to the event bus, when `postgres` is among the publishers, its spool replayed. */
async function openSpool(
  config: ServerConfig,
  bus: PostgresEventBus,
  logger: Logger,
): Promise<Result<EventBusPublisher | undefined, StartError>> {
  if (!config.publishers.includes('postgres')) return ok(undefined);
  const opened = EventBusPublisher.open({
    bus,
    spoolDirectory: resolve(config.dataDir),
    clock: systemClock,
    logger,
  });
  if (opened.isErr()) {
    return err(startFailed(`event spool in ${resolve(config.dataDir)}: ${opened.error.message}`));
  }
  // Events spooled by an earlier run go first.
  await opened.value.flush();
  return ok(opened.value);
}
