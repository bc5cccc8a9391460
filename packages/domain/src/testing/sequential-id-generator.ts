import type { IdGenerator } from '../ports/id-generator.port.js';
import type { WorkerId } from '../worker/ids.js';

/** Predictable ids for tests: event ids are valid UUIDv7 shapes counting up. */
export class SequentialIdGenerator implements IdGenerator {
  #events = 0;
  #workers = 0;

  constructor(private readonly workerPrefix = 'w') {}

  eventId(): string {
    this.#events += 1;
    const n = this.#events.toString(16).padStart(12, '0');
    return `00000000-0000-7000-8000-${n}`;
  }

  workerId(): WorkerId {
    this.#workers += 1;
    return `${this.workerPrefix}-${this.#workers.toString().padStart(6, '0')}` as WorkerId;
  }
}
