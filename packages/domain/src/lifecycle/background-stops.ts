import type { ResultAsync } from 'neverthrow';
import type { Logger } from '../ports/logger.port.js';
import { errorMessage, type LifecycleError } from './lifecycle.errors.js';

/** One stop of a worker's resource, and what comes after it (reading its exit back). */
export type StopWork = () => ResultAsync<unknown, LifecycleError>;

interface QueuedStop {
  readonly kind: string;
  readonly work: StopWork;
}

export interface BackgroundStopsDeps {
  /** Stops under way at once; the rest wait their turn in the order they were started. */
  readonly concurrency: number;
  readonly logger: Logger;
}

/**
 * The stops a pass has decided and no longer waits for: a stop can take a worker's whole
 * graceful timeout (PID 1 ignoring SIGTERM), and the pass must not. At most one per worker
 * is queued or under way; each ends in a log line on failure, never in a rejection. The
 * worker stays terminating until its exit is read (here, pushed or reconciled) or the
 * force-remove rule ends it.
 */
export class BackgroundStops {
  readonly #deps: BackgroundStopsDeps;
  readonly #queued = new Map<string, QueuedStop>();
  readonly #running = new Map<string, Promise<void>>();
  #closed = false;

  constructor(deps: BackgroundStopsDeps) {
    this.#deps = { ...deps, concurrency: Math.max(1, deps.concurrency) };
  }

  /** Stops queued or under way. */
  get size(): number {
    return this.#queued.size + this.#running.size;
  }

  /** Whether a stop of the worker is queued or under way. */
  has(workerId: string): boolean {
    return this.#queued.has(workerId) || this.#running.has(workerId);
  }

  /**
   * Queues the worker's stop unless one is already queued or under way, or the stops are
   * closed: `false` then, and `work` is not run.
   */
  start(workerId: string, kind: string, work: StopWork): boolean {
    if (this.#closed || this.has(workerId)) return false;
    this.#queued.set(workerId, { kind, work });
    this.#pump();
    return true;
  }

  /** Resolves once no stop is queued or under way, those started meanwhile included. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  /**
   * Takes no more stops, drops the queued ones (their workers stay terminating, for the
   * force-remove rule or the next start's recovery) and waits for those under way.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#queued.size > 0) {
      this.#deps.logger.info('background stops dropped at close', {
        dropped: this.#queued.size,
      });
      this.#queued.clear();
    }
    await this.settled();
  }

  #pump(): void {
    while (this.#running.size < this.#deps.concurrency) {
      const next = this.#queued.entries().next();
      if (next.done === true) return;
      const [workerId, stop] = next.value;
      this.#queued.delete(workerId);
      const done = (): void => {
        this.#running.delete(workerId);
        this.#pump();
      };
      this.#running.set(workerId, this.#run(workerId, stop).then(done, done));
    }
  }

  async #run(workerId: string, stop: QueuedStop): Promise<void> {
    try {
      const result = await stop.work();
      if (result.isErr()) {
        this.#deps.logger.warn('background stop failed', {
          workerId,
          kind: stop.kind,
          error: errorMessage(result.error),
        });
      }
    } catch (cause) {
      this.#deps.logger.error('background stop threw', {
        workerId,
        kind: stop.kind,
        error: cause instanceof Error ? cause.message : String(cause),
      });
    }
  }
}
