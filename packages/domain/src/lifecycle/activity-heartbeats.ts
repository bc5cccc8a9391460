import { err, ok, type Result } from 'neverthrow';
import type { Clock } from '../ports/clock.port.js';
import type { Worker } from '../worker/worker.js';
import { workerNotFound, type LifecycleError } from './lifecycle.errors.js';
import type { WorkerRegistry } from './worker-registry.js';

export interface ActivityHeartbeatsDeps {
  readonly registry: Pick<WorkerRegistry, 'get' | 'store'>;
  readonly clock: Clock;
}

/**
 * Records a live worker's activity (the agent or its dispatcher touched it): the idle clock
 * restarts and the store files the later deadline. No event: heartbeats may come every few
 * seconds, and the next state event carries the last one. Expects the caller to hold the
 * worker's lock.
 */
export class ActivityHeartbeats {
  readonly #deps: ActivityHeartbeatsDeps;

  constructor(deps: ActivityHeartbeatsDeps) {
    this.#deps = deps;
  }

  record(workerId: string, by: string): Result<Worker, LifecycleError> {
    const { registry, clock } = this.#deps;
    const w = registry.get(workerId);
    if (w === undefined) return err(workerNotFound(workerId));
    if (w.state !== 'creating' && w.state !== 'ready' && w.state !== 'busy') {
      return err({
        type: 'WorkerNotLive',
        workerId,
        state: w.state,
        message: `worker ${workerId} is ${w.state}: only a live worker records activity`,
      });
    }
    const worker: Worker = { ...w, lastActivityAt: clock.now(), lastActivityBy: by };
    registry.store(worker);
    return ok(worker);
  }
}
