import { describe, expect, it } from 'vitest';
import type { IJob, IPod } from '../cluster/cluster-types.js';
import { jobWorkerStatus, podWorkerStatus } from './map-pod-status.js';

const pod = (status: NonNullable<IPod['status']>, created = '2025-01-01T00:00:00.000Z'): IPod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', creationTimestamp: created },
  spec: { containers: [{ name: 'worker', image: 'x' }] },
  status,
});

const terminated = (exitCode: number, reason = 'Error') => ({
  containerStatuses: [
    {
      name: 'worker',
      image: 'x',
      imageID: '',
      ready: false,
      restartCount: 0,
      state: { terminated: { exitCode, reason, finishedAt: '2025-01-01T00:01:00.000Z' } },
    },
  ],
});

const job = (status: NonNullable<IJob['status']>): IJob => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'j' },
  spec: { template: {} },
  status,
});

describe('pod phase to worker status', () => {
  it('maps Pending to creating and Running to running', () => {
    expect(podWorkerStatus(pod({ phase: 'Pending' }))).toEqual({ state: 'creating' });
    expect(podWorkerStatus(pod({ phase: 'Running' }))).toEqual({
      state: 'running',
      health: 'none',
    });
  });

  it('maps Unknown (its node stopped reporting) to running but unhealthy', () => {
    expect(podWorkerStatus(pod({ phase: 'Unknown' }))).toEqual({
      state: 'running',
      health: 'unhealthy',
    });
  });

  it('maps Succeeded and Failed to exited with the container’s exit code and finish time', () => {
    expect(podWorkerStatus(pod({ phase: 'Succeeded', ...terminated(0, 'Completed') }))).toEqual({
      state: 'exited',
      exitCode: 0,
      finishedAt: Date.parse('2025-01-01T00:01:00.000Z'),
      oomKilled: false,
    });
    expect(
      podWorkerStatus(pod({ phase: 'Failed', ...terminated(137, 'OOMKilled') })),
    ).toMatchObject({
      exitCode: 137,
      oomKilled: true,
    });
  });

  it('gives no exit code for a pod that never ran or whose node was lost', () => {
    expect(
      podWorkerStatus(pod({ phase: 'Failed', reason: 'NodeLost', ...terminated(137) })),
    ).toMatchObject({
      state: 'exited',
      exitCode: null,
    });
    expect(
      podWorkerStatus(pod({ phase: 'Failed', ...terminated(137, 'ContainerCannotRun') })),
    ).toMatchObject({
      exitCode: null,
    });
  });
});

describe('Job to worker status', () => {
  it('follows the newest pod of the Job', () => {
    const old = pod({ phase: 'Failed', ...terminated(1) }, '2025-01-01T00:00:00.000Z');
    const current = pod({ phase: 'Running' }, '2025-01-01T00:00:10.000Z');
    expect(jobWorkerStatus(job({ active: 1 }), [old, current])).toEqual({
      state: 'running',
      health: 'none',
    });
  });

  it('is creating while the Job controller has not made a pod', () => {
    expect(jobWorkerStatus(job({}), [])).toEqual({ state: 'creating' });
  });

  it('is missing when the pod the Job had is gone: the worker vanished, whatever the Job says', () => {
    expect(
      jobWorkerStatus(job({ failed: 1, conditions: [{ type: 'Failed', status: 'True' }] }), []),
    ).toEqual({
      state: 'missing',
    });
    expect(jobWorkerStatus(job({ active: 1 }), [])).toEqual({ state: 'missing' });
  });

  it('is exited without an exit code when the Job failed before any pod ran', () => {
    expect(
      jobWorkerStatus(
        job({
          conditions: [
            {
              type: 'Failed',
              status: 'True',
              reason: 'DeadlineExceeded',
              lastTransitionTime: '2025-01-01T00:00:05.000Z',
            },
          ],
        }),
        [],
      ),
    ).toEqual({
      state: 'exited',
      exitCode: null,
      finishedAt: Date.parse('2025-01-01T00:00:05.000Z'),
      oomKilled: false,
    });
  });
});
