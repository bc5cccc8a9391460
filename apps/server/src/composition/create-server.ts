import 'reflect-metadata';
import { err, ok, type Result } from 'neverthrow';
import { container as rootContainer } from 'tsyringe';
import type { ServerConfig } from '../config/config.js';
import { eventLogPruner } from '../passes/event-log-pruner.js';
import { ActingGate } from './acting-gate.js';
import { openDatabase, registerDatabase } from './database.js';
import { guardActions } from './database-waiter.js';
import { gracefulStop } from './graceful-stop.js';
import type { HodeiServer, ServerOptions } from './hodei-server.js';
import { ProviderWatches } from './provider-watches.js';
import { recoverProviders } from './recover-providers.js';
import { registerCore } from './register-core.js';
import { registerMetrics } from './register-metrics.js';
import { registerProviders } from './register-providers.js';
import { registerPublishers } from './register-publishers.js';
import { registerServices } from './register-services.js';
import type { StartError } from './server.errors.js';
import { ShutdownList } from './shutdown-list.js';
import { buildApi, listen } from './start-api.js';
import { refuseWritesWhileHalted } from './write-gate-hook.js';
import { resolveEveryToken, TOKENS } from './tokens.js';
import { createWebhooks, registerWebhooks, startWebhooks } from './webhooks.js';

export type { HodeiServer, ServerOptions } from './hodei-server.js';
export type { StartError } from './server.errors.js';

/**
 * The composition root (SPEC §8, ADR 0003): registers every component as a factory on a child
 * container, resolves every root token at boot, then starts in order — migrations, spool replay,
 * provider locks, recovery of every provider, the passes, the API.
 */
export async function createServer(
  config: ServerConfig,
  options: ServerOptions = {},
): Promise<Result<HodeiServer, StartError>> {
  const c = rootContainer.createChildContainer();
  // Closed in reverse: the event log pruner, providers (their watches, simulated clusters),
  // publishers, provider locks, event bus.
  const shutdown = new ShutdownList();
  const logger = registerCore(c, config, options);
  if (logger.isErr()) return err(logger.error);
  const database = await openDatabase(config, logger.value, shutdown);
  if (database.isErr()) return err(database.error);
  registerDatabase(c, database.value);
  const gate = new ActingGate();
  c.register(TOKENS.actingGate, { useValue: gate });
  const webhooks = createWebhooks(config, database.value.bus, logger.value);
  registerWebhooks(c, webhooks);
  registerPublishers(c);
  registerMetrics(c);
  const clusters = registerProviders(c, options);
  registerServices(c);

  const resolved = resolveEveryToken(c);
  if (resolved.isErr()) {
    await shutdown.closeAll();
    return err(resolved.error);
  }
  const providers = c.resolve(TOKENS.providers);
  const live = c.resolve(TOKENS.live);
  const publisher = c.resolve(TOKENS.publisher);
  const service = c.resolve(TOKENS.service);
  const scheduler = c.resolve(TOKENS.scheduler);
  shutdown.add('publishers', async () => {
    await publisher.close();
  });
  shutdown.add('providers', () => {
    clusters.stop();
    return Promise.resolve();
  });

  // Recovery before the passes and the API.
  const watches = new ProviderWatches(providers);
  // Without PostgreSQL: reads answer, writes and passes wait until it does.
  if (database.value.unreachable) gate.close('database unreachable');
  await recoverProviders(providers, watches);
  const { app, token, tokenFile } = await buildApi(c, options);
  refuseWritesWhileHalted(app, gate);
  scheduler.start();
  await startWebhooks(webhooks, shutdown);
  const pruner = eventLogPruner(c.resolve(TOKENS.eventBus), config.eventLog, logger.value);
  if (pruner !== undefined) {
    pruner.start();
    // Stopped before the event bus it prunes (the list closes in reverse).
    shutdown.add('event log pruner', () => pruner.stop());
  }
  const url = await listen(app, config);
  if (url.isErr()) {
    await scheduler.stop();
    await shutdown.closeAll();
    return err(url.error);
  }
  // Acting only with the provider locks, and once the database answers.
  guardActions({
    database: database.value,
    config,
    gate,
    providers,
    watches,
    logger: logger.value,
    shutdown,
  });

  // What a cleanup ends, the service forgets (idempotency digests).
  live.subscribe((e) => {
    if (e.type === 'WorkerEphemeralCleanedUp') service.forget(e.workerId);
  });
  const stop = gracefulStop({
    config,
    app,
    scheduler,
    service,
    providers,
    watches,
    gate,
    logger: logger.value,
    shutdown,
  });

  logger.value.info('server started', {
    url: url.value,
    providers: providers.map((p) => p.id),
    lifecycle: config.lifecycleEnabled,
    publishers: config.publishers,
  });
  return ok({ config, container: c, service, live, app, url: url.value, token, tokenFile, stop });
}
