import type { Clock, IdGenerator, LifecycleEventPublisher, Logger } from '@hodei/domain';
import type { EventBusPublisher, PostgresEventBus } from '@hodei/postgres-event-bus';
import { err, ok, type Result } from 'neverthrow';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { Logger as PinoLogger } from 'pino';
import type { ServerConfig } from '../config/config.js';
import type { LiveEventStream } from '../events/live-event-stream.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PassScheduler } from '../passes/pass-scheduler.js';
import type { WebhookService } from '../webhooks/webhook-service.js';
import type { HistorySource, ProviderEntry, WorkerService } from '../workers/worker-service.js';
import type { ActingGate } from './acting-gate.js';
import type { ProviderLocks } from './provider-locks.js';
import { startFailed, type StartError } from './server.errors.js';

/** Typed tokens of the composition root; the only place tsyringe is used (ADR 0003). */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- brands the symbol with its type
const token = <T>(name: string): InjectionToken<T> => Symbol(name) as InjectionToken<T>;

export const TOKENS = {
  config: token<ServerConfig>('config'),
  clock: token<Clock>('clock'),
  ids: token<IdGenerator>('ids'),
  pino: token<PinoLogger>('pino'),
  logger: token<Logger>('logger'),
  metrics: token<Metrics>('metrics'),
  live: token<LiveEventStream>('live'),
  eventBus: token<PostgresEventBus | undefined>('eventBus'),
  busPublisher: token<EventBusPublisher | undefined>('busPublisher'),
  publisher: token<LifecycleEventPublisher>('publisher'),
  providerLocks: token<ProviderLocks | undefined>('providerLocks'),
  actingGate: token<ActingGate>('actingGate'),
  providers: token<readonly ProviderEntry[]>('providers'),
  history: token<HistorySource>('history'),
  service: token<WorkerService>('service'),
  scheduler: token<PassScheduler>('scheduler'),
  webhooks: token<WebhookService>('webhooks'),
} as const;

/** Resolves every root token, so that a missing registration fails at start, not later. */
export function resolveEveryToken(c: DependencyContainer): Result<void, StartError> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tokens of every type
    for (const t of Object.values(TOKENS)) c.resolve(t as never);
  } catch (cause) {
    return err(startFailed((cause as Error).message));
  }
  return ok(undefined);
}
