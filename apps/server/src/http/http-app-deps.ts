import type { LifecycleEvent } from '@hodei/domain';
import type { Logger as PinoLogger } from 'pino';
import type { LiveEventStream } from '../events/live-event-stream.js';
import type { WorkerService } from '../workers/worker-service.js';

export interface ReadinessCheck {
  readonly ok: boolean;
  readonly detail: string;
}

export interface HttpAppDeps {
  readonly service: WorkerService;
  readonly live: LiveEventStream;
  /** Events after `eventId`, from the event store or the live buffer; `undefined` if unknown. */
  readonly resume: (eventId: string) => Promise<readonly LifecycleEvent[] | undefined>;
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  readonly readiness: () => Promise<Record<string, ReadinessCheck>>;
  readonly token: string;
  readonly logger?: PinoLogger;
  readonly heartbeatMs?: number;
  readonly bodyLimit?: number;
  readonly version?: string;
  /** Called once per answered request, for `hodei_http_requests_total`. */
  readonly onResponse?: (method: string, route: string, status: number) => void;
}
