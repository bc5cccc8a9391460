import type { FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { EventStreamLimits } from '../config/event-stream-limits.js';
import type { HttpLimits } from '../config/http-limits.js';
import type { RequestLogLevel } from '../config/observability-config.js';
import type { CatchUpSource } from '../events/catch-up-source.js';
import type { LiveEventStream } from '../events/live-event-stream.js';
import type { EventTicketStore } from '../events/event-ticket-store.js';
import type { RecentObservations } from '../metrics/recent-observations.js';
import type { WebhookService } from '../webhooks/webhook-service.js';
import type { WorkerService } from '../workers/worker-service.js';
import type { CookieCheck } from './session-auth.js';
import type { SessionStore } from './session-store.js';
import type { SignInLimiter } from './sign-in-limiter.js';

export interface ReadinessCheck {
  readonly ok: boolean;
  readonly detail: string;
}

export interface HttpAppDeps {
  readonly service: WorkerService;
  readonly live: LiveEventStream;
  /** What a client resuming with `Last-Event-ID` missed: the event store or the live buffer. */
  readonly resume: CatchUpSource;
  /** Bounds of `GET /v1/events`; `DEFAULT_EVENT_STREAM_LIMITS` when absent. */
  readonly eventStreamLimits?: EventStreamLimits;
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  readonly readiness: () => Promise<Record<string, ReadinessCheck>>;
  readonly token: string;
  readonly logger?: PinoLogger;
  readonly heartbeatMs?: number;
  readonly bodyLimit?: number;
  /** Timeouts and the connection cap; `DEFAULT_HTTP_LIMITS` when absent. */
  readonly limits?: HttpLimits;
  readonly version?: string;
  /**
   * The level of the one log line per answered request (`info` when absent); the probes
   * (`/healthz`, `/readyz`, `/metrics`) are written at `debug`, and a 5xx always at `error`
   * with its cause.
   */
  readonly requestLogLevel?: RequestLogLevel;
  /**
   * Called once per answered request, for `hodei_http_requests_total` and
   * `hodei_http_request_duration_seconds`.
   */
  readonly onResponse?: (method: string, route: string, status: number, durationMs: number) => void;
  /**
   * Another way than the bearer token to let a request in, for a matched route (short-lived
   * browser tickets on `/v1/events`): `true` accepts the request.
   */
  /** Tickets for browsers' EventSource; `POST /v1/events/tickets` is served when given. */
  readonly eventTickets?: EventTicketStore;
  /** `/v1/webhooks`; absent: every webhook route answers 409 WebhooksNeedDatabase. */
  readonly webhooks?: WebhookService;
  readonly ticketAuth?: (route: string, request: FastifyRequest) => boolean;
  /**
   * Browser sessions (`/v1/session`): with them every `/v1` route also takes the session
   * cookie, and a change through it the CSRF token. Absent: the bearer token only.
   */
  readonly sessions?: SessionStore;
  /** The bound on wrong tokens at sign-in; a default one when absent. */
  readonly signInLimiter?: SignInLimiter;
  /** Set from `sessions` by `buildHttpApp`: what the session cookie says of a request. */
  readonly cookieAuth?: (request: FastifyRequest) => CookieCheck;
  /**
   * The dashboard at `/ui`: the folder of its built files (`undefined`: not built, `/ui`
   * answers 404). Absent: no `/ui` routes (HODEI_UI_ENABLED=false).
   */
  readonly ui?: { readonly dir: string | undefined };
  /** The last day of reap lags and idle tails, for `GET /v1/stats/deadlines`. */
  readonly recentDeadlines?: RecentObservations;
  /** Epoch ms; `Date.now` when absent. */
  readonly now?: () => number;
}
