import type { FastifyInstance } from 'fastify';
import { ResultAsync } from 'neverthrow';
import type { DependencyContainer } from 'tsyringe';
import type { ServerConfig } from '../config/config.js';
import { buildHttpApp } from '../http/app.js';
import { EventTicketStore } from '../events/event-ticket-store.js';
import { eventTicketAuth } from '../http/event-ticket-routes.js';
import { SessionStore } from '../http/session-store.js';
import { dashboardDistDir } from '../http/ui-routes.js';
import { resolveToken } from './api-token.js';
import { catchUpSource } from './event-history.js';
import type { ServerOptions } from './hodei-server.js';
import { readiness } from './readiness.js';
import { startFailed, type StartError } from './server.errors.js';
import { TOKENS } from './tokens.js';

export interface Api {
  readonly app: FastifyInstance;
  readonly token: string;
  /** Where a generated token is kept; undefined when it was given. */
  readonly tokenFile: string | undefined;
}

/** The HTTP API over the resolved components, built but not listening yet. */
export async function buildApi(c: DependencyContainer, options: ServerOptions): Promise<Api> {
  const live = c.resolve(TOKENS.live);
  const metrics = c.resolve(TOKENS.metrics);
  const providers = c.resolve(TOKENS.providers);
  const bus = c.resolve(TOKENS.eventBus);
  const config = c.resolve(TOKENS.config);
  const clock = c.resolve(TOKENS.clock);
  const { token, file: tokenFile } = await resolveToken(config);
  const eventTickets = new EventTicketStore();
  const app = await buildHttpApp({
    eventTickets,
    ticketAuth: eventTicketAuth(eventTickets),
    webhooks: c.resolve(TOKENS.webhooks),
    sessions: new SessionStore({ ttlMs: config.ui.sessionTtlMs, now: () => clock.now() }),
    ...(config.ui.enabled ? { ui: { dir: options.dashboardDir ?? dashboardDistDir() } } : {}),
    recentDeadlines: metrics.events.recent,
    now: () => clock.now(),
    service: c.resolve(TOKENS.service),
    live,
    resume: catchUpSource(live, bus),
    eventStreamLimits: config.eventStreamLimits,
    metrics: () => metrics.render(),
    readiness: () =>
      readiness(providers, bus, metrics.providerCalls.streaks, c.resolve(TOKENS.actingGate)),
    token,
    limits: config.httpLimits,
    logger: c.resolve(TOKENS.pino),
    requestLogLevel: config.observability.requestLogLevel,
    onResponse: (method, route, status, durationMs) =>
      metrics.observeRequest(method, route, status, durationMs),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
  });
  return { app, token, tokenFile };
}

/** Starts accepting; resolves to the URL it listens on. */
export function listen(
  app: FastifyInstance,
  config: ServerConfig,
): ResultAsync<string, StartError> {
  return ResultAsync.fromThrowable(
    () => app.listen({ host: config.httpHost, port: config.httpPort }),
    (cause) =>
      startFailed(
        `cannot listen on ${config.httpHost}:${config.httpPort} (HODEI_HTTP_HOST/HODEI_HTTP_PORT): ${(cause as Error).message}`,
      ),
  )();
}
