import type { LogFields, Logger, WorkerProviderError } from '@hodei/domain';
import { describe, expect, it } from 'vitest';
import { ProviderCallReporter } from './provider-call-reporter.js';
import { ProviderFailureStreaks } from './provider-failure-streaks.js';

const recordingLogger = () => {
  const lines: [string, string, LogFields | undefined][] = [];
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push([level, message, fields]);
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { lines, logger };
};

const down: WorkerProviderError = {
  type: 'ProviderUnavailable',
  providerId: 'docker' as never,
  endpoint: 'unix:///var/run/docker.sock',
  message: 'Docker Engine at unix:///var/run/docker.sock is unavailable',
  retryable: true,
  cause: new Error('connect ENOENT /var/run/docker.sock'),
};

const reporter = () => {
  const { lines, logger } = recordingLogger();
  const streaks = new ProviderFailureStreaks({ afterFailures: 1, forMs: 60_000 });
  return { lines, streaks, calls: new ProviderCallReporter(logger, streaks) };
};

describe('ProviderCallReporter', () => {
  it('logs an engine failure at error with its cause, and a refusal at warn', () => {
    const { lines, calls } = reporter();
    const create = { provider: 'docker', kind: 'docker', operation: 'create', workerId: 'w-1' };
    calls.failed(create, down);
    calls.failed(create, {
      type: 'WorkerAlreadyExists',
      workerId: 'w-1' as never,
      message: 'taken',
    });
    expect(lines).toEqual([
      [
        'error',
        'provider call failed',
        {
          ...create,
          error: {
            type: 'ProviderUnavailable',
            providerId: 'docker',
            endpoint: 'unix:///var/run/docker.sock',
            message: down.message,
            retryable: true,
          },
          cause: down.cause,
        },
      ],
      ['warn', 'provider call refused', expect.objectContaining({ operation: 'create' })],
    ]);
  });

  it('logs a failing health check once per outage, and when it passes again', () => {
    const { lines, calls } = reporter();
    const health = { provider: 'docker', kind: 'docker', operation: 'health' };
    calls.failed(health, down);
    calls.failed(health, down);
    calls.succeeded(health);
    calls.succeeded(health);
    expect(lines.map(([level, message]) => [level, message])).toEqual([
      ['error', 'provider health check failed'],
      ['info', 'provider health check passes again'],
    ]);
  });

  it('keeps the streak readiness reads, and says when the provider is no longer degraded', () => {
    const { lines, streaks, calls } = reporter();
    const create = { provider: 'docker', kind: 'docker', operation: 'create' };
    calls.failed(create, down);
    expect(streaks.degradation('docker')).toMatch(/^degraded: create failed once since /);
    calls.succeeded(create);
    expect(streaks.degradation('docker')).toBeUndefined();
    expect(lines.at(-1)).toEqual([
      'info',
      'provider no longer degraded',
      { provider: 'docker', operation: 'create', was: expect.stringMatching(/^degraded: /) },
    ]);
  });
});
