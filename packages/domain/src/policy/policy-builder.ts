import type { Result } from 'neverthrow';
import {
  validatePolicy,
  type EphemeralWorkerPolicy,
  type OrphanAction,
  type PolicyError,
} from './policy.js';
import { dockerProfile } from './profiles.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One setter per field, named as the field, in integer milliseconds; `build()` validates. */
export class EphemeralWorkerPolicyBuilder {
  readonly #draft: Mutable<EphemeralWorkerPolicy>;

  constructor(base: EphemeralWorkerPolicy = dockerProfile) {
    this.#draft = { ...base };
  }

  maxLifetime(ms: number): this {
    this.#draft.maxLifetime = ms;
    return this;
  }
  ttlAfterCompletion(ms: number | null): this {
    this.#draft.ttlAfterCompletion = ms;
    return this;
  }
  idleTimeout(ms: number): this {
    this.#draft.idleTimeout = ms;
    return this;
  }
  gracefulTerminationTimeout(ms: number): this {
    this.#draft.gracefulTerminationTimeout = ms;
    return this;
  }
  startupTimeout(ms: number): this {
    this.#draft.startupTimeout = ms;
    return this;
  }
  autoCleanupEnabled(on: boolean): this {
    this.#draft.autoCleanupEnabled = on;
    return this;
  }
  orphanDetectionEnabled(on: boolean): this {
    this.#draft.orphanDetectionEnabled = on;
    return this;
  }
  orphanCheckInterval(ms: number): this {
    this.#draft.orphanCheckInterval = ms;
    return this;
  }
  orphanGracePeriod(ms: number): this {
    this.#draft.orphanGracePeriod = ms;
    return this;
  }
  expiryWarning(ms: number): this {
    this.#draft.expiryWarning = ms;
    return this;
  }
  orphanAction(action: OrphanAction): this {
    this.#draft.orphanAction = action;
    return this;
  }

  build(): Result<EphemeralWorkerPolicy, PolicyError[]> {
    return validatePolicy(this.#draft);
  }
}
