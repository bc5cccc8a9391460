import type { HealthStatus, PresentWorkerStatus } from '@hodei/domain';

/** The parts of `docker inspect`'s State the adapter reads. */
export interface DockerContainerState {
  readonly Status: string;
  readonly ExitCode?: number;
  readonly FinishedAt?: string;
  readonly OOMKilled?: boolean;
  readonly Health?: { readonly Status: string } | undefined;
}

export const healthOf = (status: string | undefined): HealthStatus => {
  switch (status) {
    case 'starting':
    case 'healthy':
    case 'unhealthy':
      return status;
    default:
      return 'none';
  }
};

/** Docker writes the zero time `0001-01-01T00:00:00Z` for "never". */
export const dockerTime = (value: string | undefined): number | null => {
  if (value === undefined || value.startsWith('0001-')) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
};

/**
 * Docker's container states mapped to the port's (SPEC §4):
 * created → creating; running → running with its health; paused → running (the process is
 * alive, frozen); restarting → creating (coming back up); exited, dead and removing → exited
 * with exit code, finish time and OOM kill. A 404 is `missing`, decided by the caller.
 */
export function mapContainerState(state: DockerContainerState): PresentWorkerStatus {
  switch (state.Status) {
    case 'created':
    case 'restarting':
      return { state: 'creating' };
    case 'running':
    case 'paused':
      return { state: 'running', health: healthOf(state.Health?.Status) };
    default:
      return {
        state: 'exited',
        exitCode: state.ExitCode ?? null,
        finishedAt: dockerTime(state.FinishedAt),
        oomKilled: state.OOMKilled ?? false,
      };
  }
}

/**
 * `docker ps` gives only a summary (`Up 3 seconds (healthy)`): enough for running containers,
 * whose health it names. Exited ones are inspected for their exit code and finish time.
 */
export function healthFromSummary(summary: string): HealthStatus {
  if (summary.includes('(unhealthy)')) return 'unhealthy';
  if (summary.includes('(healthy)')) return 'healthy';
  if (summary.includes('(health: starting)')) return 'starting';
  return 'none';
}
