import type { Logger as PinoLogger } from 'pino';
import type { EventStreamLimits } from '../config/event-stream-limits.js';
import type { HttpLimits } from '../config/http-limits.js';
import type { CatchUpSource } from '../events/catch-up-source.js';
import type { LiveEventStream } from '../events/live-event-stream.js';
import type { WorkerService } from '../workers/worker-service.js';

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
  /** Called once per answered request, for `hodei_http_requests_total`. */
  readonly onResponse?: (method: string, route: string, status: number) => void;
}
