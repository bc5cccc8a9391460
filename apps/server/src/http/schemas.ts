import { LIFECYCLE_EVENT_TYPES, WORKER_STATES } from '@hodei/domain';
import { booleanText, documentedText, integerText } from './openapi-query-types.js';
import { DASHBOARD_SCHEMAS } from './dashboard-schemas.js';
import { WEBHOOK_SCHEMAS } from './webhook-schemas.js';

/**
 * JSON Schemas of every body, query and response (SPEC §8), also the OpenAPI document's. The
 * ones with an `$id` are shared: routes refer to them as `{ $ref: 'Worker#' }` and the document
 * names them `#/components/schemas/Worker`.
 */

/** Worker and provider ids, as `parseWorkerId` accepts them. */
export const ID_PATTERN = '^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$';
export const ID_DESCRIPTION =
  "1 to 50 lowercase letters, digits or '-', not starting or ending with '-'";
const ID = ID_PATTERN;
const MAX_DURATION_SECONDS = 30 * 24 * 3600;

const seconds = (minimum: number) => ({ type: 'integer', minimum, maximum: MAX_DURATION_SECONDS });

/** A worker's policy in a request (create, change): seconds, each field optional. */
const POLICY_REQUEST_PROPERTIES = {
  maxLifetimeSeconds: seconds(1),
  ttlAfterCompletionSeconds: {
    type: ['integer', 'null'],
    minimum: 0,
    maximum: MAX_DURATION_SECONDS,
  },
  idleTimeoutSeconds: seconds(1),
  gracefulTerminationTimeoutSeconds: seconds(0),
  startupTimeoutSeconds: seconds(1),
  expiryWarningSeconds: seconds(0),
} as const;

export const errorSchema = {
  $id: 'Error',
  description: 'Every error: its type, a message, and for invalid input each problem',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: {
      type: 'string',
      description: 'the error type: `ValidationFailed`, `WorkerNotFound`, …',
    },
    message: { type: 'string' },
    problems: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: {
          path: { type: 'string', description: 'the field: `body.policy.idleTimeoutSeconds`' },
          message: { type: 'string' },
        },
      },
    },
  },
} as const;

export const policySchema = {
  $id: 'Policy',
  description: 'The lifecycle policy of a worker, in seconds',
  type: 'object',
  required: [
    'maxLifetimeSeconds',
    'ttlAfterCompletionSeconds',
    'idleTimeoutSeconds',
    'gracefulTerminationTimeoutSeconds',
    'startupTimeoutSeconds',
    'expiryWarningSeconds',
  ],
  properties: {
    maxLifetimeSeconds: { type: 'integer' },
    ttlAfterCompletionSeconds: {
      type: ['integer', 'null'],
      description: 'null: no retention, as 0 (cleaned up in the next pass)',
    },
    idleTimeoutSeconds: { type: 'integer' },
    gracefulTerminationTimeoutSeconds: { type: 'integer' },
    startupTimeoutSeconds: { type: 'integer' },
    expiryWarningSeconds: {
      type: 'integer',
      description:
        'how long before a lifetime or idle termination WorkerEphemeralExpiring is sent; 0: none',
    },
  },
} as const;

const isoOrNull = (description: string) =>
  ({ type: ['string', 'null'], format: 'date-time', description }) as const;

export const deadlinesSchema = {
  $id: 'Deadlines',
  description:
    'Why and when the worker will stop: each deadline that applies in its state, null where its rule does not (and all null without lifecycle management, where no pass runs)',
  type: 'object',
  required: [
    'lifetimeAt',
    'idleAt',
    'startupAt',
    'forceRemoveAt',
    'cleanupAt',
    'expiryWarningAt',
    'next',
  ],
  properties: {
    lifetimeAt: isoOrNull('terminated for LifetimeExceeded (creating, ready, busy)'),
    idleAt: isoOrNull(
      'terminated for IdleTimeout (a ready agent): its last activity plus idleTimeout',
    ),
    startupAt: isoOrNull('terminated for StartupTimeout (creating)'),
    forceRemoveAt: isoOrNull(
      'terminating: the latest it is removed by force (a backstop past its graceful termination timeout), not when it is expected to stop',
    ),
    cleanupAt: isoOrNull('cleaned up, its retention over (terminated, failed)'),
    expiryWarningAt: isoOrNull('when its WorkerEphemeralExpiring goes out, if one is owed'),
    next: {
      type: ['object', 'null'],
      description: 'the rule that acts first, and when',
      required: ['rule', 'at'],
      properties: {
        rule: { type: 'string', enum: ['lifetime', 'idle', 'startup', 'forceRemove', 'ttl'] },
        at: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const;

export const workerSchema = {
  $id: 'Worker',
  description: 'A worker as the server tracks it',
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
    'lastActivity',
    'deadlines',
  ],
  properties: {
    id: { type: 'string' },
    providerId: { type: 'string' },
    mode: { type: 'string', enum: ['job', 'agent'] },
    state: { type: 'string', enum: [...WORKER_STATES] },
    resourceId: { type: 'string', description: 'the container or pod' },
    image: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    readyAt: { type: ['string', 'null'], format: 'date-time' },
    terminatedAt: { type: ['string', 'null'], format: 'date-time' },
    exitCode: { type: ['integer', 'null'] },
    terminationReason: { type: ['string', 'null'] },
    policy: { $ref: 'Policy#' },
    lastActivity: {
      type: ['object', 'null'],
      description:
        'the last sign of life the idle clock counts from (a ready/busy change or a heartbeat) and who gave it; null without lifecycle management',
      required: ['at', 'by'],
      properties: {
        at: { type: 'string', format: 'date-time' },
        by: {
          type: 'string',
          description:
            'who: a heartbeat’s `by`; `api` (a request: ready, busy, a heartbeat without `by`); `gc` (the deadline pass); `watch` (the provider’s events, e.g. a job’s start); `recovery` (adopted after a restart); `unknown` (recovered without its history)',
        },
      },
    },
    deadlines: { $ref: 'Deadlines#' },
  },
} as const;

export const workerPageSchema = {
  $id: 'WorkerPage',
  description: 'One page of workers, oldest first; `nextCursor` fetches the next',
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: { type: 'array', items: { $ref: 'Worker#' } },
    nextCursor: { type: ['string', 'null'], description: 'null on the last page' },
  },
} as const;

export const createWorkerRequestSchema = {
  $id: 'CreateWorkerRequest',
  description: 'A worker to create; every field has a default',
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
      properties: POLICY_REQUEST_PROPERTIES,
    },
  },
} as const;

export const policyChangeSchema = {
  $id: 'PolicyChange',
  description:
    'A partial update of a worker’s policy at run time: the fields given, as at create, replace its own, the others stay; at least one. `extendLifetimeBySeconds` (not with maxLifetimeSeconds) adds to the lifetime it has when the change applies. A terminating worker’s policy cannot change, a finished one’s only ttlAfterCompletionSeconds; the lifetime may not pass HODEI_MAX_LIFETIME_SECONDS',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    ...POLICY_REQUEST_PROPERTIES,
    extendLifetimeBySeconds: {
      ...seconds(1),
      description: 'seconds added to its current maxLifetime, counted when the change applies',
    },
  },
} as const;

export const heartbeatRequestSchema = {
  $id: 'HeartbeatRequest',
  description: 'An agent’s activity heartbeat: its idle clock restarts, no event is recorded',
  type: 'object',
  additionalProperties: false,
  properties: {
    by: {
      type: 'string',
      minLength: 1,
      maxLength: 128,
      pattern: '^[\\x21-\\x7E][\\x20-\\x7E]*$',
      description:
        'who touched it (1 to 128 printable ASCII characters, the first visible, not a space); default `api`',
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
    limit: integerText({
      pattern: '^(?:[1-9][0-9]{0,2}|1000)$',
      minimum: 1,
      maximum: 1000,
      default: 100,
      description: 'workers per page, 1 to 1000',
    }),
    cursor: { type: 'string', maxLength: 512, description: 'the `nextCursor` of the last page' },
  },
} as const;

export const deleteQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    wait: booleanText('answer once the worker is gone (200) instead of at once (202)'),
  },
} as const;

const TAIL_DESCRIPTION = 'the last N lines (0 to 999999), or all; default 1000';

export const logsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    follow: booleanText('keep the response open and stream new lines'),
    tail: documentedText(
      { type: 'string', pattern: '^([0-9]{1,6}|all)$', description: TAIL_DESCRIPTION } as const,
      {
        oneOf: [
          { type: 'integer', minimum: 0, maximum: 999_999 },
          { type: 'string', enum: ['all'] },
        ],
        description: TAIL_DESCRIPTION,
      },
    ),
  },
} as const;

export const eventsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    workerId: { type: 'string', pattern: ID, description: 'only this worker’s events' },
    type: {
      type: 'string',
      maxLength: 2048,
      description: `only these types, a comma list; each the short name (\`WorkerCreated\`) or the CloudEvents type (\`io.hodei.lifecycle.WorkerCreated\`). Types: ${LIFECYCLE_EVENT_TYPES.join(', ')}`,
    },
    heartbeats: booleanText(
      'also the garbage collection pass reports (GarbageCollectionCompleted), left out otherwise',
    ),
    ticket: {
      type: 'string',
      maxLength: 512,
      description: 'a short-lived ticket from POST /v1/events/tickets, for browsers',
    },
    lastEventId: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description:
        'where to resume, as the Last-Event-ID header says it (the header wins): a browser that opens a new EventSource with a new ticket cannot send the header',
    },
  },
} as const;

/** A lifecycle event as JSON: the CloudEvents envelope of SPEC §3.6. */
export const cloudEventSchema = {
  $id: 'CloudEvent',
  description: 'A lifecycle event in the CloudEvents 1.0 JSON format',
  type: 'object',
  required: ['specversion', 'id', 'type', 'source', 'time', 'datacontenttype', 'data'],
  properties: {
    specversion: { type: 'string' },
    id: { type: 'string' },
    type: { type: 'string', description: '`io.hodei.lifecycle.<Type>`' },
    source: { type: 'string' },
    subject: { type: 'string', description: 'the worker id' },
    time: { type: 'string', format: 'date-time' },
    datacontenttype: { type: 'string' },
    data: { type: 'object', additionalProperties: true },
    correlationid: { type: 'string' },
    actor: { type: 'string' },
  },
} as const;

export const workerHistorySchema = {
  $id: 'WorkerHistory',
  description: 'The events of one worker, oldest first',
  type: 'object',
  required: ['workerId', 'events'],
  properties: {
    workerId: { type: 'string' },
    events: { type: 'array', items: { $ref: 'CloudEvent#' } },
  },
} as const;

const count = { type: 'integer', minimum: 0 } as const;

export const gcProviderStatsSchema = {
  $id: 'GcProviderStats',
  description: 'What the passes did on one provider',
  type: 'object',
  required: ['workersCleaned', 'orphansDetected', 'errors', 'durationMs'],
  properties: {
    workersCleaned: count,
    orphansDetected: count,
    errors: count,
    durationMs: { type: 'number' },
    lifetimeExceeded: count,
    idleTimedOut: count,
    startupTimedOut: count,
    forceTerminated: count,
    ttlExpired: count,
    expiryWarnings: count,
    lost: count,
  },
} as const;

export const gcReportSchema = {
  $id: 'GcReport',
  description: 'What a deadline pass and a reconciliation did, in all and per provider',
  type: 'object',
  required: ['workersCleaned', 'orphansDetected', 'errors', 'durationMs', 'byProvider'],
  properties: {
    workersCleaned: count,
    orphansDetected: count,
    errors: count,
    durationMs: { type: 'number' },
    byProvider: { type: 'object', additionalProperties: { $ref: 'GcProviderStats#' } },
  },
} as const;

export const healthSchema = {
  $id: 'Health',
  description: 'Liveness or readiness, with each check',
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['ok', 'ready', 'not ready'] },
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

/** Every shared schema, in the order of the document's components. */
export const SHARED_SCHEMAS = [
  errorSchema,
  policySchema,
  deadlinesSchema,
  workerSchema,
  workerPageSchema,
  createWorkerRequestSchema,
  policyChangeSchema,
  heartbeatRequestSchema,
  cloudEventSchema,
  workerHistorySchema,
  gcProviderStatsSchema,
  gcReportSchema,
  healthSchema,
  ...WEBHOOK_SCHEMAS,
  ...DASHBOARD_SCHEMAS,
] as const;
