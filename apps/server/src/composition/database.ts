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
  /**
   * PostgreSQL did not answer at start: the bus and the spool are open (events spool to
   * disk), but nothing is migrated or locked yet; see `waitForDatabase`.
   */
  readonly unreachable: boolean;
}

const NO_DATABASE: Database = {
  bus: undefined,
  busPublisher: undefined,
  locks: undefined,
  unreachable: false,
};

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
  shutdown.add('event bus', () => bus.value.bus.close());
  const busPublisher = await openSpool(config, bus.value.bus, logger, !bus.value.unreachable);
  if (busPublisher.isErr()) {
    await shutdown.closeAll();
    return err(busPublisher.error);
  }
  if (bus.value.unreachable) {
    return ok({
      bus: bus.value.bus,
      busPublisher: busPublisher.value,
      locks: undefined,
      unreachable: true,
    });
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
  return ok({
    bus: bus.value.bus,
    busPublisher: busPublisher.value,
    locks: locks.value,
    unreachable: false,
  });
}

export function registerDatabase(c: DependencyContainer, database: Database): void {
  // Factories, not values: tsyringe does not count `useValue: undefined` as a provider.
  c.register(TOKENS.eventBus, { useFactory: () => database.bus });
  c.register(TOKENS.busPublisher, { useFactory: () => database.busPublisher });
  c.register(TOKENS.providerLocks, { useFactory: () => database.locks });
}

/**
 * The event bus with its migrations run; closed again when they fail, but kept (not migrated,
 * `unreachable`) when PostgreSQL only does not answer: the server starts without it.
 */
async function openEventBus(
  databaseUrl: string,
  logger: Logger,
): Promise<Result<{ bus: PostgresEventBus; unreachable: boolean }, StartError>> {
  const created = PostgresEventBus.create({
    connectionString: databaseUrl,
    applicationName: 'hodei-server',
    logger,
  });
  if (created.isErr()) return err(startFailed(created.error.message));
  const bus = created.value;
  const migrated = await bus.ready();
  if (migrated.isErr() && migrated.error.type === 'EventStoreUnavailable') {
    logger.error('PostgreSQL does not answer; starting without it: writes and passes wait', {
      database: redactDatabaseUrl(databaseUrl),
      error: migrated.error.message,
    });
    return ok({ bus, unreachable: true });
  }
  if (migrated.isErr()) {
    await bus.close();
    return err(
      startFailed(
        `PostgreSQL at ${redactDatabaseUrl(databaseUrl)} (DATABASE_URL): ${migrated.error.message}`,
      ),
    );
  }
  return ok({ bus, unreachable: false });
}

/** The publisher to the event bus, when `postgres` is among the publishers, its spool replayed. */
async function openSpool(
  config: ServerConfig,
  bus: PostgresEventBus,
  logger: Logger,
  replay: boolean,
): Promise<Result<EventBusPublisher | undefined, StartError>> {
  if (!config.publishers.includes('postgres')) return ok(undefined);
  const opened = EventBusPublisher.open({
    bus,
    spoolDirectory: resolve(config.dataDir),
    clock: systemClock,
    logger,
  });
  if (opened.isErr()) {
    // Two servers on one spool would lose each other's events: name the holder and the fix.
    const fix =
      opened.error.type === 'SpoolLocked'
        ? ': stop that server, or give this one another HODEI_DATA_DIR'
        : '';
    return err(
      startFailed(`event spool in ${resolve(config.dataDir)}: ${opened.error.message}${fix}`),
    );
  }
  // Events spooled by an earlier run go first (once the database answers, when it does not).
  if (replay) await opened.value.flush();
  return ok(opened.value);
}
