import { LIFECYCLE_EVENT_TYPES, WORKER_STATES } from '@hodei/domain';

/** JSON Schemas of every body, query and response (SPEC §8), also the OpenAPI document's. */

/** Worker and provider ids, as `parseWorkerId` accepts them. */
export const ID_PATTERN = '^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$';
export const ID_DESCRIPTION =
  "1 to 50 lowercase letters, digits or '-', not starting or ending with '-'";
const ID = ID_PATTERN;
const MAX_DURATION_SECONDS = 30 * 24 * 3600;

const seconds = (minimum: number) => ({ type: 'integer', minimum, maximum: MAX_DURATION_SECONDS });

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    problems: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

export const policySchema = {
  $id: 'Policy',
  type: 'object',
  required: [
    'maxLifetimeSeconds',
    'ttlAfterCompletionSeconds',
    'idleTimeoutSeconds',
    'gracefulTerminationTimeoutSeconds',
    'startupTimeoutSeconds',
  ],
  properties: {
    maxLifetimeSeconds: { type: 'integer' },
    ttlAfterCompletionSeconds: { type: ['integer', 'null'] },
    idleTimeoutSeconds: { type: 'integer' },
    gracefulTerminationTimeoutSeconds: { type: 'integer' },
    startupTimeoutSeconds: { type: 'integer' },
  },
} as const;

export const workerSchema = {
  $id: 'Worker',
  type: 'object',
  required: [
    'id',
    'providerId',
    'mode',
    'state',
    'resourceId',
    'image',
    'createdAt',
    'readyAt',
    'terminatedAt',
    'exitCode',
    'terminationReason',
    'policy',
  ],
  properties: {
    id: { type: 'string' },
    providerId: { type: 'string' },
    mode: { type: 'string', enum: ['job', 'agent'] },
    state: { type: 'string', enum: [...WORKER_STATES] },
    resourceId: { type: 'string' },
    image: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    readyAt: { type: ['string', 'null'], format: 'date-time' },
    terminatedAt: { type: ['string', 'null'], format: 'date-time' },
    exitCode: { type: ['integer', 'null'] },
    terminationReason: { type: ['string', 'null'] },
    policy: { $ref: 'Policy#' },
  },
} as const;

export const createWorkerBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: {
      type: 'string',
      pattern: ID,
      description: 'generated when absent; a repeat with the same spec is idempotent',
    },
    providerId: { type: 'string', pattern: ID },
    mode: { type: 'string', enum: ['job', 'agent'] },
    readiness: { type: 'string', enum: ['container', 'external'], description: 'agents only' },
    image: {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: '^[A-Za-z0-9][A-Za-z0-9._/:@-]*$',
      description: 'an image reference: no spaces or shell metacharacters',
    },
    command: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 8192 } },
    env: {
      type: 'object',
      maxProperties: 256,
      propertyNames: {
        pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$',
        not: { pattern: '^[Hh][Oo][Dd][Ee][Ii]_' },
      },
      additionalProperties: { type: 'string', maxLength: 32_768 },
    },
    labels: {
      type: 'object',
      maxProperties: 64,
      propertyNames: {
        pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$',
        not: { pattern: '^[Hh][Oo][Dd][Ee][Ii]\\.' },
      },
      additionalProperties: { type: 'string', maxLength: 255 },
    },
    resources: {
      type: 'object',
      additionalProperties: false,
      properties: {
        memoryMb: { type: 'integer', minimum: 6, maximum: 1_048_576 },
        cpus: { type: 'number', exclusiveMinimum: 0, maximum: 256 },
      },
    },
    policy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxLifetimeSeconds: seconds(1),
        ttlAfterCompletionSeconds: {
          type: ['integer', 'null'],
          minimum: 0,
          maximum: MAX_DURATION_SECONDS,
        },
        idleTimeoutSeconds: seconds(1),
        gracefulTerminationTimeoutSeconds: seconds(0),
        startupTimeoutSeconds: seconds(1),
      },
    },
  },
} as const;

export const workerIdParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', pattern: ID, description: ID_DESCRIPTION } },
} as const;

export const listWorkersQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: [...WORKER_STATES] },
    providerId: { type: 'string', pattern: ID },
    mode: { type: 'string', enum: ['job', 'agent'] },
    limit: {
      type: 'string',
      pattern: '^(?:[1-9][0-9]{0,2}|1000)$',
      description: '1 to 1000, default 100',
    },
    cursor: { type: 'string', maxLength: 512 },
  },
} as const;

export const workerPage = {
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: { type: 'array', items: { $ref: 'Worker#' } },
    nextCursor: { type: ['string', 'null'] },
  },
} as const;

export const deleteQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { wait: { type: 'string', enum: ['true', 'false'] } },
} as const;

export const logsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    follow: { type: 'string', enum: ['true', 'false'] },
    tail: {
      type: 'string',
      pattern: '^([0-9]{1,6}|all)$',
      description: 'the last N lines (0 to 999999), or all; default 1000',
    },
  },
} as const;

export const eventsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    workerId: { type: 'string', pattern: ID },
    type: { type: 'string', enum: [...LIFECYCLE_EVENT_TYPES] },
  },
} as const;

/** A lifecycle event as JSON: the CloudEvents envelope of SPEC §3.6. */
export const cloudEventSchema = {
  $id: 'CloudEvent',
  type: 'object',
  required: ['specversion', 'id', 'type', 'source', 'time', 'datacontenttype', 'data'],
  properties: {
    specversion: { type: 'string' },
    id: { type: 'string' },
    type: { type: 'string' },
    source: { type: 'string' },
    subject: { type: 'string' },
    time: { type: 'string' },
    datacontenttype: { type: 'string' },
    data: { type: 'object', additionalProperties: true },
    correlationid: { type: 'string' },
    actor: { type: 'string' },
  },
} as const;

export const historyResponse = {
  type: 'object',
  required: ['workerId', 'events'],
  properties: {
    workerId: { type: 'string' },
    events: { type: 'array', items: { $ref: 'CloudEvent#' } },
  },
} as const;

const gcStats = {
  type: 'object',
  required: ['workersCleaned', 'orphansDetected', 'errors', 'durationMs'],
  properties: {
    workersCleaned: { type: 'integer' },
    orphansDetected: { type: 'integer' },
    errors: { type: 'integer' },
    durationMs: { type: 'number' },
    lifetimeExceeded: { type: 'integer' },
    idleTimedOut: { type: 'integer' },
    startupTimedOut: { type: 'integer' },
    forceTerminated: { type: 'integer' },
    ttlExpired: { type: 'integer' },
    lost: { type: 'integer' },
  },
} as const;

export const gcResponse = {
  type: 'object',
  required: ['workersCleaned', 'orphansDetected', 'errors', 'durationMs', 'byProvider'],
  properties: {
    workersCleaned: { type: 'integer' },
    orphansDetected: { type: 'integer' },
    errors: { type: 'integer' },
    durationMs: { type: 'number' },
    byProvider: { type: 'object', additionalProperties: gcStats },
  },
} as const;

export const healthResponse = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string' },
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['ok'],
        properties: {
          ok: { type: 'boolean' },
          detail: { type: 'string', description: 'only with the bearer token' },
        },
      },
    },
  },
} as const;

export const errorResponses = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  413: { $ref: 'Error#' },
  414: { $ref: 'Error#' },
  415: { $ref: 'Error#' },
  429: { $ref: 'Error#' },
  503: { $ref: 'Error#' },
} as const;
