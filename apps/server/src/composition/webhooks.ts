import type { Logger } from '@hodei/domain';
import { type PostgresEventBus, PostgresWebhooks, UrlAllowlist } from '@hodei/postgres-event-bus';
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { ServerConfig } from '../config/config.js';
import { SERVER_VERSION } from '../metrics/build-info.js';
import { webhookService } from '../webhooks/webhook-service.js';
import type { ShutdownList } from './shutdown-list.js';
import { TOKENS } from './tokens.js';

/** The webhooks engine over the event bus; none without DATABASE_URL. Not started yet. */
export function createWebhooks(
  config: ServerConfig,
  bus: PostgresEventBus | undefined,
  logger: Logger,
): PostgresWebhooks | undefined {
  if (bus === undefined) return undefined;
  // The prefixes were validated and normalised when the configuration was read.
  const allowlist = UrlAllowlist.of(config.webhooks.allowedUrls);
  if (allowlist.isErr()) {
    logger.warn('webhooks are off: the allowlist is invalid', { error: allowlist.error.message });
    return undefined;
  }
  return new PostgresWebhooks({
    bus,
    allowlist: allowlist.value,
    retry: { maxAttempts: config.webhooks.maxAttempts },
    maxWebhooks: config.webhooks.maxWebhooks,
    userAgent: `hodei/${SERVER_VERSION}`,
    logger,
  });
}

export function registerWebhooks(
  c: DependencyContainer,
  engine: PostgresWebhooks | undefined,
): void {
  c.register(TOKENS.webhooks, { useFactory: instanceCachingFactory(() => webhookService(engine)) });
}

/**
 * Starts delivering (the migrations have run); stopped on shutdown before the event bus
 * closes. A failed first read of the table is logged by the engine, which keeps polling.
 */
export async function startWebhooks(
  engine: PostgresWebhooks | undefined,
  shutdown: ShutdownList,
): Promise<void> {
  if (engine === undefined) return;
  shutdown.add('webhooks', () => engine.stop());
  await engine.start();
}
