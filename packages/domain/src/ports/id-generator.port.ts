import type { WorkerId } from '../worker/ids.js';

export interface IdGenerator {
  /** A UUIDv7 for an event. */
  eventId(): string;
  /** A short, lowercase, time-ordered worker id. */
  workerId(): WorkerId;
}
