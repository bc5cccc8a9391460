import type { FastifyInstance } from 'fastify';
import { REAP_RULES } from '../metrics/lifecycle-event-metrics.js';
import {
  MAX_WINDOW_SECONDS,
  type ObservationSummary,
  type RecentObservations,
} from '../metrics/recent-observations.js';
import type { DueRule } from '@hodei/domain';
import { summarizeWorkers } from '../workers/worker-summary.js';
import type { WorkerService } from '../workers/worker-service.js';
import { integerText } from './openapi-query-types.js';
import { errors, json } from './openapi-responses.js';
import { security } from './route-helpers.js';

export interface DashboardRouteDeps {
  readonly service: WorkerService;
  readonly recentDeadlines: RecentObservations | undefined;
  readonly now: () => number;
}

const DEFAULT_WINDOW_SECONDS = 3600;

export const deadlineStatsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    windowSeconds: integerText({
      // 1 to 86400
      pattern: '^(?:[1-9][0-9]{0,3}|[1-7][0-9]{4}|8[0-5][0-9]{3}|86[0-3][0-9]{2}|86400)$',
      minimum: 1,
      maximum: MAX_WINDOW_SECONDS,
      default: DEFAULT_WINDOW_SECONDS,
      description: 'the last this many seconds, 1 to 86400',
    }),
  },
} as const;

const EMPTY: ObservationSummary = { count: 0, p50: null, p90: null, p99: null, max: null };

/**
 * What the dashboard's fleet view reads beyond the listing: the counts by state and provider
 * (`GET /v1/stats/workers`) and the reap lag and idle tail of the last hour
 * (`GET /v1/stats/deadlines`).
 */
export function registerDashboardRoutes(app: FastifyInstance, deps: DashboardRouteDeps): void {
  app.get(
    '/v1/stats/workers',
    {
      schema: {
        operationId: 'summarizeWorkers',
        summary: 'The tracked workers counted by state, in all and per provider',
        description:
          'From what the lifecycle managers track, without asking a provider; a provider without lifecycle management counts none.',
        tags: ['workers'],
        security,
        response: {
          200: json('WorkerSummary', 'The counts'),
          ...errors([400, 'Malformed HTTP, such as an HTTP/1.1 request without Host'], 401),
        },
      },
    },
    () => summarizeWorkers(deps.service.providers),
  );

  app.get(
    '/v1/stats/deadlines',
    {
      schema: {
        operationId: 'getDeadlineStats',
        summary: 'The reap lag per rule and the idle tail of the last hour (or window)',
        description:
          'The observations of hodei_reap_lag_seconds and hodei_idle_tail_seconds, all providers together, kept in memory for a day (at most 10,000 per series): lost at restart.',
        tags: ['passes'],
        security,
        querystring: deadlineStatsQuery,
        response: {
          200: json('DeadlineStats', 'Count, p50, p90, p99 and max in seconds per series'),
          ...errors([400, '`windowSeconds` is not 1 to 86400'], 401),
        },
      },
    },
    (request) => {
      const given = (request.query as { windowSeconds?: string }).windowSeconds;
      const windowSeconds = given === undefined ? DEFAULT_WINDOW_SECONDS : Number(given);
      const now = deps.now();
      const of = (series: DueRule | 'idleTail') =>
        deps.recentDeadlines?.summary(series, now, windowSeconds * 1000) ?? EMPTY;
      return {
        windowSeconds,
        reapLag: Object.fromEntries(REAP_RULES.map((rule) => [rule, of(rule)])),
        idleTail: of('idleTail'),
      };
    },
  );
}
