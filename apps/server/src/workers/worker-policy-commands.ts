import type { LifecycleManager, OperationContext } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import { policyOverride, type PolicyRequest } from './create-request.js';
import { validationFailed, workerNotFound, type WorkerServiceError } from './service.errors.js';
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

/** Who touched a worker when a heartbeat does not say. */
export const DEFAULT_HEARTBEAT_BY = 'api';

/**
 * What changes a running worker without moving its state: a policy change (an extension, a
 * shorter idle clock…) and an activity heartbeat. Both need the lifecycle manager, which
 * keeps the deadlines.
 */
export class WorkerPolicyCommands {
  constructor(private readonly lookup: WorkerLookup) {}

  /** PATCH semantics: the given fields merged onto the worker's policy, validated as at create. */
  async changePolicy(
    workerId: string,
    request: PolicyRequest,
    ctx: OperationContext,
  ): Promise<Result<WorkerView, WorkerServiceError>> {
    const manager = this.#managerOf(workerId);
    if (manager.isErr()) return err(manager.error);
    if (!POLICY_REQUEST_FIELDS.some((f) => request[f] !== undefined)) {
      return err(
        validationFailed([
          {
            path: 'body',
            message: `name at least one policy field: ${POLICY_REQUEST_FIELDS.join(', ')}`,
          },
        ]),
      );
    }
    const changed = await manager.value.changePolicy(workerId, policyOverride(request), ctx);
    return changed.map((outcome) => workerView(outcome.worker));
  }

  /** Resets the idle clock of a live worker; no event. */
  async heartbeat(
    workerId: string,
    by: string | undefined,
    ctx: OperationContext,
  ): Promise<Result<WorkerView, WorkerServiceError>> {
    const manager = this.#managerOf(workerId);
    if (manager.isErr()) return err(manager.error);
    const touched = await manager.value.recordActivity(workerId, by ?? DEFAULT_HEARTBEAT_BY, ctx);
    return touched.map(workerView);
  }

  /** The manager tracking the worker, or why there is none. */
  #managerOf(workerId: string): Result<LifecycleManager, WorkerServiceError> {
    const manager = this.lookup.find(workerId)?.entry.lifecycle?.manager;
    if (manager !== undefined) return ok(manager);
    if (this.lookup.defaultEntry.lifecycle === undefined) {
      return err({
        type: 'LifecycleDisabled',
        message:
          'lifecycle management is off (HODEI_LIFECYCLE_ENABLED=false): workers have no policy or deadlines to change',
      });
    }
    return err(workerNotFound(workerId));
  }
}
