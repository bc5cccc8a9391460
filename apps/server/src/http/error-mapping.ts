import {
  CREATE_POLICY_PATH,
  maxLifetimeProblem,
  policyProblem,
} from '../workers/create-request.js';
import type { WebhookServiceError } from '../webhooks/webhook-service.js';
import type { WorkerServiceError } from '../workers/service.errors.js';
import { ALLOWED_URLS_VARIABLE, MAX_WEBHOOKS_VARIABLE } from '../config/webhook-config.js';

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly problems?: readonly { readonly path: string; readonly message: string }[];
}

const assertNever = (value: never): never => {
  throw new TypeError(`unmapped error ${JSON.stringify(value)}`);
};

/** What the routes answer besides success: worker and webhook errors. */
export type HttpError = WorkerServiceError | WebhookServiceError;

/** Every error a worker or webhook operation can return, to its HTTP status (SPEC §8). */
export function statusOf(error: HttpError): number {
  switch (error.type) {
    case 'InvalidWebhook':
    case 'WebhookUrlNotAllowed':
    case 'InvalidReplayFrom':
    case 'InvalidCursor':
      return 400;
    case 'WebhookNotFound':
      return 404;
    case 'WebhooksNeedDatabase':
    case 'WebhookLimitReached':
      return 409;
    case 'EventStoreUnavailable':
      return 503;
    case 'EventStoreFailure':
      return 500;
    case 'ValidationFailed':
    case 'InvalidWorkerSpec':
    case 'InvalidPolicy':
    case 'PolicyLimitExceeded':
    case 'PolicyRefused':
    case 'ImagePullFailed':
      return 400;
    case 'WorkerNotFound':
    case 'WorkerReplaced':
      return 404;
    case 'InvalidTransition':
    case 'WorkerIdConflict':
    case 'WorkerAlreadyExists':
    case 'WorkerAlreadyTracked':
    case 'WorkerNotFinished':
    case 'ResourceNotOwned':
    case 'LifecycleDisabled':
    case 'NotAnAgent':
    case 'PolicyNotChangeable':
    case 'WorkerNotLive':
      return 409;
    case 'TooManyWorkers':
      return 429;
    case 'ProviderUnavailable':
    case 'ProviderTimeout':
    case 'ProviderFailure':
    case 'PublisherBackpressure':
    case 'ProviderNotRecovered':
      return 503;
    default:
      return assertNever(error);
  }
}

/** The error each body was made from, for the log line of its request (see `failureBehind`). */
const failures = new WeakMap<object, HttpError>();

/** The error a body sent by `bodyOf` was made from: what the request log writes as its cause. */
export const failureBehind = (body: unknown): HttpError | undefined =>
  typeof body === 'object' && body !== null ? failures.get(body) : undefined;

/** The answer's body; it remembers its error, so a 5xx is logged with the error's cause. */
export function bodyOf(error: HttpError): ErrorBody {
  const body = bodyOfError(error);
  failures.set(body, error);
  return body;
}

function bodyOfError(error: HttpError): ErrorBody {
  switch (error.type) {
    // The paths as the body schema's refusals name them (`body.url`).
    case 'InvalidWebhook':
      return {
        error: error.type,
        message: error.message,
        problems: [{ path: `body.${error.field}`, message: error.message }],
      };
    case 'WebhookUrlNotAllowed': {
      // The operator's setting named, so the caller knows whom to ask.
      const message = `${error.message} (${ALLOWED_URLS_VARIABLE})`;
      return { error: error.type, message, problems: [{ path: 'body.url', message }] };
    }
    case 'WebhookLimitReached':
      return { error: error.type, message: `${error.message} (${MAX_WEBHOOKS_VARIABLE})` };
    case 'InvalidReplayFrom':
      return {
        error: error.type,
        message: error.message,
        problems: [{ path: 'body.from', message: error.message }],
      };
    case 'EventStoreFailure':
      // A fault: its detail goes to the log (see `failureBehind`), not to the caller.
      return { error: 'InternalError', message: 'the server failed; see its log' };
    case 'ValidationFailed':
      return { error: error.type, message: error.message, problems: error.problems };
    case 'InvalidWorkerSpec':
      return { error: error.type, message: error.message, problems: error.problems };
    case 'PolicyRefused':
      return { error: error.error, message: error.message, problems: error.problems };
    case 'InvalidPolicy': {
      // A create's policy (a change's is mapped by its service): in seconds, never ms.
      const problems = error.problems.map((p) => policyProblem(p, CREATE_POLICY_PATH));
      return {
        error: error.type,
        message: problems.map((p) => `${p.path}: ${p.message}`).join('; '),
        problems,
      };
    }
    case 'PolicyLimitExceeded': {
      // The operator's setting named, in the request's unit.
      const problem = maxLifetimeProblem(error.value, error.limit, CREATE_POLICY_PATH);
      return {
        error: error.type,
        message: `${problem.path}: ${problem.message}`,
        problems: [problem],
      };
    }
    case 'InvalidTransition':
      return { error: error.type, message: `a ${error.from} worker cannot become ${error.to}` };
    default:
      return { error: error.type, message: error.message };
  }
}
