import { describe, expect, it } from 'vitest';
import { healthFromSummary, mapContainerState } from './map-container-state.js';

describe('mapContainerState', () => {
  it('maps a created or restarting container to creating', () => {
    expect(mapContainerState({ Status: 'created' })).toEqual({ state: 'creating' });
    expect(mapContainerState({ Status: 'restarting' })).toEqual({ state: 'creating' });
  });

  it('maps a running container to running with its health, none without a healthcheck', () => {
    expect(mapContainerState({ Status: 'running' })).toEqual({ state: 'running', health: 'none' });
    expect(mapContainerState({ Status: 'running', Health: { Status: 'unhealthy' } })).toEqual({
      state: 'running',
      health: 'unhealthy',
    });
  });

  it('maps a paused container to running, since its process is alive', () => {
    expect(mapContainerState({ Status: 'paused', Health: { Status: 'healthy' } })).toEqual({
      state: 'running',
      health: 'healthy',
    });
  });

  it('maps exited and dead containers to exited with exit code, finish time and OOM kill', () => {
    expect(
      mapContainerState({
        Status: 'exited',
        ExitCode: 137,
        FinishedAt: '2026-11-28T01:02:03.456789Z',
        OOMKilled: true,
      }),
    ).toEqual({
      state: 'exited',
      exitCode: 137,
      finishedAt: Date.parse('2026-11-28T01:02:03.456Z'),
      oomKilled: true,
    });
    expect(
      mapContainerState({ Status: 'dead', ExitCode: 1, FinishedAt: '0001-01-01T00:00:00Z' }),
    ).toEqual({ state: 'exited', exitCode: 1, finishedAt: null, oomKilled: false });
  });
});

describe('healthFromSummary', () => {
  it('reads the health docker ps prints after the uptime', () => {
    expect(healthFromSummary('Up 3 seconds (healthy)')).toBe('healthy');
    expect(healthFromSummary('Up 3 seconds (unhealthy)')).toBe('unhealthy');
    expect(healthFromSummary('Up 1 second (health: starting)')).toBe('starting');
    expect(healthFromSummary('Up 2 minutes')).toBe('none');
  });
});
