import type { ResultAsync } from 'neverthrow';
import type { Logger } from '../ports/logger.port.js';
import { errorMessage, type LifecycleError } from './lifecycle.errors.js';

/** One stop of a worker's resource, and what comes after it (reading its exit back). */
export type StopWork = () => ResultAsync<unknown, LifecycleError>;

/** The resource a stop is of: a worker re-created under its id is another target. */
export interface StopTarget {
  readonly workerId: string;
  readonly resourceId: string;
}

interface QueuedStop {
  readonly workerId: string;
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
 * graceful timeout (PID 1 ignoring SIGTERM), and the pass must not. At most one per resource
 * is queued or under way (a worker re-created under the same id while its predecessor's stop
 * runs gets its own); each ends in a log line on failure, counted for the next pass's stats,
 * never in a rejection. The
 * worker stays terminating until its exit is read (here, pushed or reconciled) or the
 * force-remove rule ends it.
 */
export class BackgroundStops {
  readonly #deps: BackgroundStopsDeps;
  /** By resource id. */
  readonly #queued = new Map<string, QueuedStop>();
  readonly #running = new Map<string, Promise<void>>();
  #closed = false;
  #failures = 0;

  constructor(deps: BackgroundStopsDeps) {
    this.#deps = { ...deps, concurrency: Math.max(1, deps.concurrency) };
  }

  /** Stops queued or under way. */
  get size(): number {
    return this.#queued.size + this.#running.size;
  }

  /** Whether a stop of the resource is queued or under way. */
  has(resourceId: string): boolean {
    return this.#queued.has(resourceId) || this.#running.has(resourceId);
  }

  /** The stops that failed since the last call (a pass reports them as its errors). */
  takeFailures(): number {
    const n = this.#failures;
    this.#failures = 0;
    return n;
  }

  /**
   * Queues the stop of the target's resource unless one is already queued or under way, or
   * the stops are closed: `false` then, and `work` is not run.
   */
  start(target: StopTarget, kind: string, work: StopWork): boolean {
    if (this.#closed || this.has(target.resourceId)) return false;
    this.#queued.set(target.resourceId, { workerId: target.workerId, kind, work });
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
      const [resourceId, stop] = next.value;
      this.#queued.delete(resourceId);
      const done = (): void => {
        this.#running.delete(resourceId);
        this.#pump();
      };
      this.#running.set(resourceId, this.#run(stop).then(done, done));
    }
  }

  async #run(stop: QueuedStop): Promise<void> {
    const { workerId } = stop;
    try {
      const result = await stop.work();
      if (result.isErr()) {
        this.#failures += 1;
        this.#deps.logger.warn('background stop failed', {
          workerId,
          kind: stop.kind,
          error: errorMessage(result.error),
        });
      }
    } catch (cause) {
      this.#failures += 1;
      this.#deps.logger.error('background stop threw', {
        workerId,
        kind: stop.kind,
        error: cause instanceof Error ? cause.message : String(cause),
      });
    }
  }
}
