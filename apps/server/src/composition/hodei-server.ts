import type { FastifyInstance } from 'fastify';
import type { DependencyContainer } from 'tsyringe';
import type { ServerConfig } from '../config/config.js';
import type { LiveEventStream } from '../events/live-event-stream.js';
import type { WorkerService } from '../workers/worker-service.js';

export interface ServerOptions {
  /** Where logs go; stdout by default. */
  readonly logDestination?: number | string;
  /** SSE heartbeat period; 15 s by default. */
  readonly heartbeatMs?: number;
  /** Tick period of simulated clusters; 250 ms by default. */
  readonly clusterTickMs?: number;
  /** The built dashboard served at `/ui`; the `dist/` of `@hodei/dashboard` by default. */
  readonly dashboardDir?: string;
}

export interface HodeiServer {
  readonly config: ServerConfig;
  readonly container: DependencyContainer;
  readonly service: WorkerService;
  readonly live: LiveEventStream;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly token: string;
  readonly tokenFile: string | undefined;
  /** Stops accepting, finishes in-flight work, stops the passes, flushes and closes everything. */
  stop(): Promise<void>;
}
