import type Docker from 'dockerode';
import type { Logger, ProviderId } from '@hodei/domain';

/**
 * What the provider's operations share: the engine, whose containers they act on, and how
 * long a call may take.
 */
export interface DockerProviderContext {
  readonly docker: Docker;
  readonly providerId: ProviderId;
  /** The socket or host, as errors name it. */
  readonly endpoint: string;
  readonly callTimeoutMs: number;
  readonly logger: Logger;
  /** Aborted by the provider's `close()`: what streams it opened end then. */
  readonly closing: AbortSignal;
}

/** The streams dockerode answers pulls and followed logs with. */
export type DockerStream = NodeJS.ReadableStream & { destroy?: () => void };
