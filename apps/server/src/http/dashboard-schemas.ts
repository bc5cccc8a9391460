import { WORKER_STATES } from '@hodei/domain';

/** The shared schemas of the dashboard's routes: its session, the fleet counts, the deadline stats. */

const count = { type: 'integer', minimum: 0 } as const;

export const sessionSchema = {
  $id: 'Session',
  description:
    'A browser session; its id is only in the HttpOnly `hodei_session` cookie, never in a body',
  type: 'object',
  required: ['csrfToken', 'expiresAt'],
  additionalProperties: false,
  properties: {
    csrfToken: {
      type: 'string',
      description:
        'send as X-CSRF-Token on every call but GET and HEAD made with the cookie; keep it in memory only',
    },
    expiresAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const signInRequestSchema = {
  $id: 'SignInRequest',
  description: 'The API token, traded for a session cookie',
  type: 'object',
  required: ['token'],
  additionalProperties: false,
  properties: { token: { type: 'string', minLength: 1, maxLength: 1024 } },
} as const;

const stateCountsSchema = {
  $id: 'StateCounts',
  description: 'Tracked workers per state',
  type: 'object',
  required: [...WORKER_STATES],
  additionalProperties: false,
  properties: Object.fromEntries(WORKER_STATES.map((s) => [s, count])),
} as const;

export const workerSummarySchema = {
  $id: 'WorkerSummary',
  description: 'The tracked workers counted by state, in all and per provider',
  type: 'object',
  required: ['total', 'byState', 'providers'],
  additionalProperties: false,
  properties: {
    total: count,
    byState: { $ref: 'StateCounts#' },
    providers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'lifecycle', 'byState', 'live'],
        additionalProperties: false,
        properties: {
          id: { type: 'string' },
          lifecycle: {
            type: 'boolean',
            description: 'false: lifecycle management is off for it; it tracks and counts none',
          },
          byState: { $ref: 'StateCounts#' },
          live: { ...count, description: 'its tracked workers not yet terminated or failed' },
        },
      },
    },
  },
} as const;

const seconds = (what: string) => ({ type: ['number', 'null'], minimum: 0, description: what });

const observationSummarySchema = {
  $id: 'ObservationSummary',
  description: 'Seconds observed in the window; each figure null when count is 0',
  type: 'object',
  required: ['count', 'p50', 'p90', 'p99', 'max'],
  additionalProperties: false,
  properties: {
    count,
    p50: seconds('the median'),
    p90: seconds('the 90th percentile (nearest rank)'),
    p99: seconds('the 99th percentile (nearest rank)'),
    max: seconds('the largest'),
  },
} as const;

export const deadlineStatsSchema = {
  $id: 'DeadlineStats',
  description:
    'The reap lag per rule (a deadline to the action of the pass on it) and the idle tail (an idle-terminated worker’s last activity to its stop), all providers, from memory: lost at restart',
  type: 'object',
  required: ['windowSeconds', 'reapLag', 'idleTail'],
  additionalProperties: false,
  properties: {
    windowSeconds: { type: 'integer', minimum: 1, maximum: 86_400 },
    reapLag: {
      type: 'object',
      required: ['lifetime', 'idle', 'startup', 'forceRemove', 'ttl'],
      additionalProperties: false,
      properties: {
        lifetime: { $ref: 'ObservationSummary#' },
        idle: { $ref: 'ObservationSummary#' },
        startup: { $ref: 'ObservationSummary#' },
        forceRemove: { $ref: 'ObservationSummary#' },
        ttl: { $ref: 'ObservationSummary#' },
      },
    },
    idleTail: { $ref: 'ObservationSummary#' },
  },
} as const;

export const DASHBOARD_SCHEMAS = [
  sessionSchema,
  signInRequestSchema,
  stateCountsSchema,
  workerSummarySchema,
  observationSummarySchema,
  deadlineStatsSchema,
] as const;
