import { err, type Result } from 'neverthrow';
import { apiError, type ApiError } from './cluster-api.errors.js';
import type { ApiFaultRates, ApiVerb } from './cluster-types.js';
import type { SeededRandom } from './seeded-random.js';

export type InjectedFaultReason = 'InternalError' | 'ServiceUnavailable' | 'Timeout';

export interface InjectedFault {
  verb: ApiVerb;
  reason: string;
  applied: boolean;
}

/**
 * The API server's front door: counts every call and fails the ones a test asked for, an
 * unreachable server, a queued failure or a seeded fraction of calls.
 */
export class ApiFaults {
  readonly #random: SeededRandom;
  #reachable = true;
  #rates: Required<ApiFaultRates> = { errorRate: 0, timeoutRate: 0, verbs: [] };
  readonly #failNext: { verb: ApiVerb | undefined; error: ApiError }[] = [];
  /** Every API call, by verb. */
  readonly calls: Record<ApiVerb, number> = {
    create: 0,
    get: 0,
    list: 0,
    patch: 0,
    delete: 0,
    log: 0,
  };
  /** Every injected API failure, in order, and whether a timed-out write took effect. */
  readonly injected: InjectedFault[] = [];

  constructor(random: SeededRandom) {
    this.#random = random;
  }

  /** Runs `action` as an API call of `verb`, unless a fault answers instead. */
  call<T>(verb: ApiVerb, action: () => Result<T, ApiError>): Result<T, ApiError> {
    this.calls[verb] += 1;
    if (!this.#reachable) {
      this.injected.push({ verb, reason: 'ServiceUnavailable', applied: false });
      return err(apiError('ServiceUnavailable', 'the API server is unreachable'));
    }
    const queued = this.#failNext.findIndex((f) => f.verb === undefined || f.verb === verb);
    if (queued >= 0) {
      const [fault] = this.#failNext.splice(queued, 1);
      if (fault !== undefined) return this.#fail(verb, fault.error, action);
    }
    const { errorRate, timeoutRate, verbs } = this.#rates;
    if ((errorRate > 0 || timeoutRate > 0) && (verbs.length === 0 || verbs.includes(verb))) {
      const draw = this.#random.next();
      if (draw < errorRate)
        return this.#fail(verb, apiError('InternalError', 'injected internal error'), action);
      if (draw < errorRate + timeoutRate)
        return this.#fail(verb, apiError('Timeout', 'injected timeout'), action);
    }
    return action();
  }

  setRates(rates: ApiFaultRates): void {
    this.#rates = {
      errorRate: rates.errorRate ?? 0,
      timeoutRate: rates.timeoutRate ?? 0,
      verbs: rates.verbs ?? [],
    };
  }

  failNext(count: number, reason: InjectedFaultReason, verb: ApiVerb | undefined): void {
    for (let i = 0; i < count; i++)
      this.#failNext.push({ verb, error: apiError(reason, `injected ${reason}`) });
  }

  setReachable(reachable: boolean): void {
    this.#reachable = reachable;
  }

  /** A timed-out write may have taken effect: a coin decides, as on a real API server. */
  #fail<T>(verb: ApiVerb, error: ApiError, action: () => Result<T, ApiError>): Result<T, ApiError> {
    const write = verb === 'create' || verb === 'patch' || verb === 'delete';
    const applied = error.reason === 'Timeout' && write && this.#random.chance(0.5);
    if (applied) action();
    this.injected.push({ verb, reason: error.reason, applied });
    return err(error);
  }
}
