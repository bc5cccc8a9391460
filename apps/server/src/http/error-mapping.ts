import type { WorkerServiceError } from '../workers/service.errors.js';

export interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly problems?: readonly { readonly path: string; readonly message: string }[];
}

const assertNever = (value: never): never => {
  throw new TypeError(`unmapped error ${JSON.stringify(value)}`);
};

/** Every error a worker operation can return, to its HTTP status (SPEC §8). */
export function statusOf(error: WorkerServiceError): number {
  switch (error.type) {
    case 'ValidationFailed':
    case 'InvalidWorkerSpec':
    case 'InvalidPolicy':
    case 'ImagePullFailed':
      return 400;
    case 'WorkerNotFound':
      return 404;
    case 'InvalidTransition':
    case 'WorkerIdConflict':
    case 'WorkerAlreadyExists':
    case 'WorkerAlreadyTracked':
    case 'WorkerNotFinished':
    case 'ResourceNotOwned':
    case 'LifecycleDisabled':
    case 'NotAnAgent':
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
const failures = new WeakMap<object, WorkerServiceError>();

/** The error a body sent by `bodyOf` was made from: what the request log writes as its cause. */
export const failureBehind = (body: unknown): WorkerServiceError | undefined =>
  typeof body === 'object' && body !== null ? failures.get(body) : undefined;

/** The answer's body; it remembers its error, so a 5xx is logged with the error's cause. */
export function bodyOf(error: WorkerServiceError): ErrorBody {
  const body = bodyOfError(error);
  failures.set(body, error);
  return body;
}

function bodyOfError(error: WorkerServiceError): ErrorBody {
  switch (error.type) {
    case 'ValidationFailed':
      return { error: error.type, message: error.message, problems: error.problems };
    case 'InvalidWorkerSpec':
      return { error: error.type, message: error.message, problems: error.problems };
    case 'InvalidPolicy':
      return {
        error: error.type,
        message: error.message,
        problems: error.problems.map((p) => ({
          path: 'field' in p ? `policy.${p.field}Seconds` : 'policy',
          message: p.message,
        })),
      };
    case 'InvalidTransition':
      return { error: error.type, message: `a ${error.from} worker cannot become ${error.to}` };
    default:
      return { error: error.type, message: error.message };
  }
}
