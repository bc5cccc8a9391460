import type { WorkerProviderError } from '@hodei/domain';
import { describe, expect, it } from 'vitest';
import { ProviderFailureStreaks } from './provider-failure-streaks.js';

const bridge: WorkerProviderError = {
  type: 'ProviderFailure',
  operation: 'startContainer',
  message: 'Docker startContainer failed with HTTP 500: could not find bridge docker0',
  retryable: true,
};
const refused: WorkerProviderError = {
  type: 'InvalidWorkerSpec',
  message: 'the command cannot run',
  problems: [],
};

const streaksAt = (start = Date.parse('2030-01-01T00:00:00.000Z')) => {
  const clock = { now: start };
  const streaks = new ProviderFailureStreaks({ afterFailures: 3, forMs: 60_000 }, () => clock.now);
  return { clock, streaks };
};

describe('provider failure streaks', () => {
  it('calls a provider degraded after 3 engine failures of one operation in a row, naming the cause', () => {
    const { clock, streaks } = streaksAt();
    streaks.failed('docker', 'create', bridge);
    clock.now += 1000;
    streaks.failed('docker', 'create', bridge);
    expect(streaks.degradation('docker')).toBeUndefined();
    streaks.failed('docker', 'create', bridge);
    expect(streaks.degradation('docker')).toBe(
      'degraded: create failed 3 times since 2030-01-01T00:00:00.000Z: Docker startContainer failed with HTTP 500: could not find bridge docker0',
    );
    expect(streaks.degradation('other')).toBeUndefined();
  });

  it('recovers on the next success of that operation, not of another', () => {
    const { streaks } = streaksAt();
    for (let i = 0; i < 3; i++) streaks.failed('docker', 'create', bridge);
    streaks.succeeded('docker', 'list');
    expect(streaks.degradation('docker')).toMatch(/^degraded: create failed 3 times/);
    streaks.succeeded('docker', 'create');
    expect(streaks.degradation('docker')).toBeUndefined();
  });

  it('ignores refusals that say nothing about the engine, and pulls from a registry the client chose', () => {
    const { streaks } = streaksAt();
    for (let i = 0; i < 5; i++) streaks.failed('docker', 'create', refused);
    const unreachableRegistry: WorkerProviderError = {
      type: 'ProviderFailure',
      operation: 'pullImage',
      message: 'could not pull image registry.invalid/x:1: the registry cannot be reached',
      retryable: true,
    };
    for (let i = 0; i < 5; i++) streaks.failed('docker', 'create', unreachableRegistry);
    const pullTimeout: WorkerProviderError = {
      type: 'ProviderTimeout',
      operation: 'pullImage',
      timeoutMs: 1000,
      message: 'the pull took longer than 1 s',
      retryable: true,
    };
    for (let i = 0; i < 5; i++) streaks.failed('docker', 'create', pullTimeout);
    expect(streaks.degradation('docker')).toBeUndefined();
  });

  it('counts an engine failure that is not retryable (a network that does not exist)', () => {
    const { streaks } = streaksAt();
    const noNetwork: WorkerProviderError = {
      type: 'ProviderFailure',
      operation: 'startContainer',
      message: 'Docker startContainer failed with HTTP 404: network no-such-net not found',
      retryable: false,
    };
    for (let i = 0; i < 3; i++) streaks.failed('docker', 'create', noNetwork);
    expect(streaks.degradation('docker')).toMatch(/^degraded: create failed 3 times .*network/);
  });

  it('is not degraded by one container that cannot be stopped or removed, pass after pass', () => {
    const { streaks } = streaksAt();
    for (let i = 0; i < 10; i++) {
      streaks.failed('docker', 'destroy', bridge);
      streaks.failed('docker', 'stop', bridge);
      streaks.failed('docker', 'logs', bridge);
    }
    expect(streaks.degradation('docker')).toBeUndefined();
    for (let i = 0; i < 3; i++) streaks.failed('docker', 'list', bridge);
    expect(streaks.degradation('docker')).toMatch(/^degraded: list failed 3 times/);
  });

  it('lets a degradation lapse when its last failure is older than the period', () => {
    const { clock, streaks } = streaksAt();
    for (let i = 0; i < 3; i++) streaks.failed('docker', 'create', bridge);
    clock.now += 60_000;
    expect(streaks.degradation('docker')).toBeDefined();
    clock.now += 1;
    expect(streaks.degradation('docker')).toBeUndefined();
  });

  it('names the longest streak when several operations fail', () => {
    const { streaks } = streaksAt();
    const timeout: WorkerProviderError = {
      type: 'ProviderTimeout',
      operation: 'listContainers',
      timeoutMs: 5000,
      message: 'no answer',
      retryable: true,
    };
    for (let i = 0; i < 3; i++) streaks.failed('docker', 'create', bridge);
    for (let i = 0; i < 4; i++) streaks.failed('docker', 'list', timeout);
    expect(streaks.degradation('docker')).toMatch(
      /^degraded: list failed 4 times since .*: no answer$/,
    );
  });
});
