import type { Logger } from '@hodei/domain';
import type { EventBusPublisher, PostgresEventBus } from '@hodei/postgres-event-bus';
import type { ServerConfig } from '../config/config.js';
import type { ProviderEntry } from '../workers/worker-service.js';
import type { Database } from './database.js';
import type { ActingGate } from './acting-gate.js';
import { actOnlyWithLocks, recoverThenAct } from './lock-loss.js';
import { ProviderLocks } from './provider-locks.js';
import type { ProviderWatches } from './provider-watches.js';
import type { ShutdownList } from './shutdown-list.js';

export interface DatabaseWaitDeps {
  readonly databaseUrl: string;
  readonly bus: PostgresEventBus;
  readonly busPublisher: EventBusPublisher | undefined;
  readonly providerIds: readonly string[];
  readonly gate: ActingGate;
  readonly providers: readonly ProviderEntry[];
  readonly watches: ProviderWatches;
  readonly logger: Logger;
  readonly shutdown: ShutdownList;
}

export interface GuardDeps {
  readonly database: Database;
  readonly config: ServerConfig;
  readonly gate: ActingGate;
  readonly providers: readonly ProviderEntry[];
  readonly watches: ProviderWatches;
  readonly logger: Logger;
  readonly shutdown: ShutdownList;
}

/**
 * Keeps the gate closed while the provider locks are lost, and, when PostgreSQL did not
 * answer at start, until it does (then migrates, locks and recovers).
 */
export function guardActions(deps: GuardDeps): void {
  const { database, config, gate, providers, watches, logger, shutdown } = deps;
  if (database.locks !== undefined)
    actOnlyWithLocks({ locks: database.locks, gate, providers, watches, logger });
  if (!database.unreachable || database.bus === undefined || config.databaseUrl === undefined)
    return;
  waitForDatabase({
    databaseUrl: config.databaseUrl,
    bus: database.bus,
    busPublisher: database.busPublisher,
    providerIds: config.providers.map((p) => p.id),
    gate,
    providers,
    watches,
    logger,
    shutdown,
  });
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * A server started while PostgreSQL did not answer: retries with a bounded backoff until it
 * does, then migrates, replays the spool, takes the provider locks, recovers every provider
 * and opens the gate. Each state is logged once, not at every try. Stopped at shutdown.
 */
export function waitForDatabase(deps: DatabaseWaitDeps): void {
  const { gate, logger, shutdown } = deps;
  gate.close('database unreachable');
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let said = '';
  const say = (state: string, fields: Record<string, unknown> = {}) => {
    if (state === said) return;
    said = state;
    logger.warn(state, fields);
  };
  const attempt = async (delayMs: number): Promise<void> => {
    const step = await nextStep(deps);
    if (stopped) return;
    if (step.done) {
      if (step.locks !== undefined) {
        const locks = step.locks;
        shutdown.add('provider locks', () => locks.release());
      }
      return;
    }
    say(step.waiting, { error: step.error });
    timer = setTimeout(() => void attempt(Math.min(delayMs * 2, MAX_RETRY_MS)), delayMs);
    timer.unref();
  };
  shutdown.add('database waiter', () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    return Promise.resolve();
  });
  timer = setTimeout(() => void attempt(FIRST_RETRY_MS), FIRST_RETRY_MS);
  timer.unref();
}

type Step =
  | { readonly done: true; readonly locks: ProviderLocks | undefined }
  | { readonly done: false; readonly waiting: string; readonly error: string };

async function nextStep(deps: DatabaseWaitDeps): Promise<Step> {
  const { bus, busPublisher, gate, providers, watches, logger } = deps;
  const migrated = await bus.ready();
  if (migrated.isErr()) {
    return {
      done: false,
      waiting: 'waiting for PostgreSQL (DATABASE_URL)',
      error: migrated.error.message,
    };
  }
  const locks = await ProviderLocks.acquire(deps.databaseUrl, deps.providerIds, logger);
  if (locks.isErr()) {
    return { done: false, waiting: 'waiting for the provider locks', error: locks.error.message };
  }
  if (gate.isClosedFor('shutting down')) {
    await locks.value.release();
    return { done: true, locks: undefined };
  }
  await busPublisher?.flush();
  actOnlyWithLocks({ locks: locks.value, gate, providers, watches, logger });
  gate.close('recovering');
  gate.open('database unreachable');
  logger.info('PostgreSQL answers: migrated, spool replayed, provider locks taken; recovering');
  // 'recovering' stays closed until every provider is recovered (retried with a backoff);
  // a loss of the locks meanwhile hands over to their own recovery once they are back.
  recoverThenAct(
    { gate, providers, watches, logger },
    () => !gate.isClosedFor('provider lock lost'),
  );
  return { done: true, locks: locks.value };
}
