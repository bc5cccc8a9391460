import {
  OWNERSHIP_LABELS,
  type LifecycleError,
  type LifecycleManager,
  type OperationContext,
  type OverridableField,
  type PolicyChange,
  type Worker,
} from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import {
  maxLifetimeProblem,
  policyOverride,
  policyProblem,
  type PolicyRequest,
} from './create-request.js';
import type { ProviderEntry } from './provider-entry.js';
import { checkPressure, type PressureGauge } from './publisher-pressure.js';
import {
  describeError,
  validationFailed,
  workerNotFound,
  type WorkerServiceError,
} from './service.errors.js';
import type { WorkerLookup } from './worker-lookup.js';
import { workerView, type WorkerView } from './worker-view.js';

/** The fields `PATCH /v1/workers/{id}/policy` takes, as the create's `policy` names them. */
export const POLICY_REQUEST_FIELDS = [
  'maxLifetimeSeconds',
  'ttlAfterCompletionSeconds',
  'idleTimeoutSeconds',
  'gracefulTerminationTimeoutSeconds',
  'startupTimeoutSeconds',
  'expiryWarningSeconds',
] as const satisfies readonly (keyof PolicyRequest)[];

/** The body of `PATCH /v1/workers/{id}/policy`: the create's fields, or a relative extension. */
export interface PolicyChangeRequest extends PolicyRequest {
  /** Added to the lifetime the worker has when the change applies (under its lock). */
  readonly extendLifetimeBySeconds?: number;
}

/** A change's answer: the worker, and the fields that changed (`…Seconds`; none: no change). */
export interface PolicyChangeView {
  readonly worker: WorkerView;
  readonly changed: readonly string[];
}

/** Who touched a worker when a heartbeat does not say. */
export const DEFAULT_HEARTBEAT_BY = 'api';

/** Where a change's fields are, as the schema's errors name them. */
const CHANGE_PATH = 'body.';
const SECOND = 1000;

/** The request's name of a policy field. */
const secondsName = (field: OverridableField): string => `${field}Seconds`;

/**
 * What changes a running worker without moving its state: a policy change (an extension, a
 * shorter idle clock…) and an activity heartbeat. Both need the lifecycle manager, which
 * keeps the deadlines.
 */
export class WorkerPolicyCommands {
  constructor(
    private readonly lookup: WorkerLookup,
    /** The service's clock, for the deadlines in the answer. */
    private readonly now: () => number,
    /** A change records an event: refused before it is made while the publisher cannot take it. */
    private readonly publisher?: PressureGauge,
  ) {}

  /** PATCH semantics: the given fields merged onto the worker's policy, validated as at create. */
  async changePolicy(
    workerId: string,
    request: PolicyChangeRequest,
    ctx: OperationContext,
  ): Promise<Result<PolicyChangeView, WorkerServiceError>> {
    const by = request.extendLifetimeBySeconds;
    if (by !== undefined && request.maxLifetimeSeconds !== undefined) {
      return err(
        validationFailed([
          {
            path: `${CHANGE_PATH}extendLifetimeBySeconds`,
            message: 'cannot be combined with maxLifetimeSeconds: give one',
          },
        ]),
      );
    }
    if (by === undefined && !POLICY_REQUEST_FIELDS.some((f) => request[f] !== undefined)) {
      return err(
        validationFailed([
          {
            path: 'body',
            message: `name at least one policy field: ${POLICY_REQUEST_FIELDS.join(', ')}, or extendLifetimeBySeconds`,
          },
        ]),
      );
    }
    const tracked = await this.#tracked(workerId, POLICY_OFF);
    if (tracked.isErr()) return err(tracked.error);
    const pressure = checkPressure(this.publisher);
    if (pressure.isErr()) return err(pressure.error);
    const override = policyOverride(request);
    // Relative: counted from the lifetime of the moment it applies, so none is lost.
    const change: PolicyChange =
      by === undefined
        ? override
        : (current) => ({ ...override, maxLifetime: current.maxLifetime + by * SECOND });
    const changed = await tracked.value.manager.changePolicy(workerId, change, ctx);
    if (changed.isErr()) return err(asRequestError(changed.error, by !== undefined));
    return ok({
      worker: workerView(changed.value.worker, this.now()),
      changed: changed.value.changed.map(secondsName),
    });
  }

  /** Resets the idle clock of a live agent; no event. */
  async heartbeat(
    workerId: string,
    by: string | undefined,
    ctx: OperationContext,
  ): Promise<Result<WorkerView, WorkerServiceError>> {
    const tracked = await this.#tracked(workerId, HEARTBEAT_OFF);
    if (tracked.isErr()) return err(tracked.error);
    if (tracked.value.worker.mode === 'job') {
      return err({
        type: 'NotAnAgent',
        workerId,
        message: `worker ${workerId} runs a job: it has no idle clock; heartbeats are for agents`,
      });
    }
    const touched = await tracked.value.manager.recordActivity(
      workerId,
      by ?? DEFAULT_HEARTBEAT_BY,
      ctx,
    );
    return touched.map((w) => workerView(w, this.now()));
  }

  /**
   * The manager tracking the worker, or why there is none: a provider that has not recovered
   * its workers yet may be about to adopt it (503, as a create); with lifecycle management off,
   * a worker that exists cannot change (409), one that does not is unknown (404).
   */
  async #tracked(
    workerId: string,
    lifecycleOff: string,
  ): Promise<Result<{ manager: LifecycleManager; worker: Worker }, WorkerServiceError>> {
    const found = this.lookup.find(workerId);
    const pending = this.lookup.providers.filter(
      (e) => e.lifecycle !== undefined && !e.lifecycle.recovery.recovered,
    );
    for (const entry of found === undefined ? pending : pending.filter((e) => e === found.entry)) {
      const refused = await notRecovered(entry);
      if (refused !== undefined) return err(refused);
    }
    const now = found ?? this.lookup.find(workerId);
    const manager = now?.entry.lifecycle?.manager;
    if (now !== undefined && manager !== undefined) return ok({ manager, worker: now.worker });
    if (this.lookup.defaultEntry.lifecycle === undefined) {
      const exists = await this.#existsBare(workerId);
      if (exists.isErr()) return err(exists.error);
      return err(
        exists.value
          ? { type: 'LifecycleDisabled', message: lifecycleOff }
          : workerNotFound(workerId),
      );
    }
    return err(workerNotFound(workerId));
  }

  /** Lifecycle management off: whether a provider runs the worker (an engine down says so). */
  async #existsBare(workerId: string): Promise<Result<boolean, WorkerServiceError>> {
    for (const entry of this.lookup.providers) {
      if (entry.lifecycle !== undefined) continue;
      const listed = await entry.provider.listManagedWorkers();
      if (listed.isErr()) return err(listed.error);
      if (listed.value.some((r) => r.labels[OWNERSHIP_LABELS.workerId] === workerId))
        return ok(true);
    }
    return ok(false);
  }
}

const POLICY_OFF =
  'lifecycle management is off (HODEI_LIFECYCLE_ENABLED=false): workers have no policy or deadlines to change';
const HEARTBEAT_OFF =
  'lifecycle management is off (HODEI_LIFECYCLE_ENABLED=false): workers have no idle clock for a heartbeat to restart';

/** Why a provider still recovering cannot answer for its workers, if it has not recovered. */
async function notRecovered(entry: ProviderEntry): Promise<WorkerServiceError | undefined> {
  const lifecycle = entry.lifecycle;
  if (lifecycle === undefined || lifecycle.recovery.recovered) return undefined;
  if (await lifecycle.recovery.ensure()) return undefined;
  const cause = lifecycle.recovery.lastError;
  return {
    type: 'ProviderNotRecovered',
    providerId: entry.id,
    message: `provider ${entry.id} has not recovered its workers yet${cause === undefined ? '' : `: ${describeError(cause)}`}; try again`,
  };
}

/**
 * The domain's refusal of a policy as the request named it: `body.<field>Seconds`, in
 * seconds (a relative extension's cap problem names extendLifetimeBySeconds).
 */
function asRequestError(error: LifecycleError, relative: boolean): WorkerServiceError {
  if (error.type === 'InvalidPolicy') {
    const problems = error.problems.map((p) => policyProblem(p, CHANGE_PATH));
    return {
      type: 'PolicyRefused',
      error: 'InvalidPolicy',
      message: problems.map((p) => `${p.path}: ${p.message}`).join('; '),
      problems,
    };
  }
  if (error.type === 'PolicyLimitExceeded') {
    const field = relative ? 'extendLifetimeBySeconds' : 'maxLifetimeSeconds';
    const problem = maxLifetimeProblem(error.value, error.limit, CHANGE_PATH, field);
    return {
      type: 'PolicyRefused',
      error: 'PolicyLimitExceeded',
      message: `${problem.path}: ${problem.message}`,
      problems: [problem],
    };
  }
  return error;
}
