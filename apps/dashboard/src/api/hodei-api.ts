import { ApiClient, queryString, type ApiResult } from './client';
import type {
  DeadlineStats,
  FleetSummary,
  Session,
  Worker,
  WorkerHistory,
  WorkerMode,
  WorkerPage,
  WorkerState,
} from './types';

export interface ListFilter {
  readonly state?: WorkerState | undefined;
  readonly providerId?: string | undefined;
  readonly mode?: WorkerMode | undefined;
}

const w = (id: string): string => `/v1/workers/${encodeURIComponent(id)}`;

/** The routes of the server the dashboard calls, typed. */
export class HodeiApi {
  readonly client = new ApiClient();

  async signIn(token: string): Promise<ApiResult<Session>> {
    const r = await this.client.request<Session>(
      'POST',
      '/v1/session',
      { token },
      { quiet401: true },
    );
    if (r.ok) this.client.setCsrfToken(r.value.csrfToken);
    return r;
  }

  async currentSession(): Promise<ApiResult<Session>> {
    const r = await this.client.request<Session>('GET', '/v1/session', undefined, {
      quiet401: true,
    });
    this.client.setCsrfToken(r.ok ? r.value.csrfToken : null);
    return r;
  }

  async signOut(): Promise<ApiResult<undefined>> {
    const r = await this.client.request<undefined>('DELETE', '/v1/session', undefined, {
      quiet401: true,
    });
    this.client.setCsrfToken(null);
    return r;
  }

  listWorkers(
    filter: ListFilter,
    limit: number,
    cursor: string | undefined,
  ): Promise<ApiResult<WorkerPage>> {
    return this.client.request('GET', `/v1/workers${queryString({ ...filter, limit, cursor })}`);
  }

  getWorker(id: string): Promise<ApiResult<Worker>> {
    return this.client.request('GET', w(id));
  }

  history(id: string): Promise<ApiResult<WorkerHistory>> {
    return this.client.request('GET', `${w(id)}/events`);
  }

  summary(): Promise<ApiResult<FleetSummary>> {
    return this.client.request('GET', '/v1/stats/workers');
  }

  deadlineStats(windowSeconds = 3600): Promise<ApiResult<DeadlineStats>> {
    return this.client.request('GET', `/v1/stats/deadlines${queryString({ windowSeconds })}`);
  }

  mark(id: string, to: 'ready' | 'busy'): Promise<ApiResult<Worker>> {
    return this.client.request('POST', `${w(id)}/${to}`, {});
  }

  changePolicy(id: string, change: Readonly<Record<string, number>>): Promise<ApiResult<Worker>> {
    return this.client.request('PATCH', `${w(id)}/policy`, change);
  }

  destroy(id: string): Promise<ApiResult<Worker>> {
    return this.client.request('DELETE', w(id));
  }

  /** The URL of the worker's log, the last `tail` lines, streamed on with `follow`. */
  logsUrl(id: string, tail: number, follow: boolean): string {
    return `${w(id)}/logs${queryString({ tail, follow: follow ? 'true' : undefined })}`;
  }
}
