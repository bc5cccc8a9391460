import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';

describe('worker container and log configuration', () => {
  it('defaults to pulling only from the default worker image’s registry, the adapter’s limits, init on', () => {
    const config = parseConfig({
      HODEI_WORKER_IMAGE: 'registry.example.com:5000/w:1',
    })._unsafeUnwrap();
    expect(config.dockerWorkers).toEqual({
      allowedImages: ['registry.example.com:5000/**'],
      pullTimeoutMs: 120_000,
      init: true,
      readOnlyRootFilesystem: false,
    });
    expect(config.logLimits).toEqual({ defaultTail: 1000, maxBytes: 10 * 1024 * 1024 });
  });

  it('reads every variable', () => {
    const config = parseConfig({
      HODEI_ALLOWED_IMAGES: 'docker.io/library/*, ghcr.io/acme/**',
      HODEI_IMAGE_PULL_TIMEOUT_SECONDS: '30',
      HODEI_WORKER_MEMORY_MB: '0',
      HODEI_WORKER_CPUS: '0.5',
      HODEI_WORKER_PIDS_LIMIT: '128',
      HODEI_WORKER_LOG_MAX_SIZE: '5m',
      HODEI_WORKER_LOG_MAX_FILE: '2',
      HODEI_WORKER_INIT: 'false',
      HODEI_WORKER_USER: '1000:1000',
      HODEI_WORKER_READ_ONLY_ROOT: 'true',
      HODEI_LOG_DEFAULT_TAIL: '50',
      HODEI_LOG_RESPONSE_MAX_BYTES: '65536',
    })._unsafeUnwrap();
    expect(config.dockerWorkers).toEqual({
      allowedImages: ['docker.io/library/*', 'ghcr.io/acme/**'],
      pullTimeoutMs: 30_000,
      defaultMemoryMb: 0,
      defaultCpus: 0.5,
      defaultPidsLimit: 128,
      logMaxSize: '5m',
      logMaxFile: 2,
      init: false,
      user: '1000:1000',
      readOnlyRootFilesystem: true,
    });
    expect(config.logLimits).toEqual({ defaultTail: 50, maxBytes: 65_536 });
  });

  it('names each bad variable with what it accepts, as the provider would refuse it', () => {
    const problems = parseConfig({
      HODEI_ALLOWED_IMAGES: 'ghcr.io/$(x)',
      HODEI_WORKER_MEMORY_MB: '2',
      HODEI_WORKER_CPUS: 'lots',
      HODEI_WORKER_PIDS_LIMIT: '1.5',
      HODEI_WORKER_LOG_MAX_SIZE: '10 MB',
      HODEI_WORKER_USER: 'root; rm',
      HODEI_LOG_RESPONSE_MAX_BYTES: '10',
    })._unsafeUnwrapErr();
    expect(problems.map((p) => [p.variable, p.accepts])).toEqual([
      ['HODEI_LOG_RESPONSE_MAX_BYTES', 'a whole number of bytes from 1024 to 1073741824'],
      ['HODEI_WORKER_CPUS', 'a number, 0 for no limit'],
      ['HODEI_WORKER_PIDS_LIMIT', 'a positive integer'],
      ['HODEI_WORKER_MEMORY_MB', '0 (no limit) or at least 6'],
      ['HODEI_WORKER_LOG_MAX_SIZE', 'a size like 10m (k, m or g)'],
      ['HODEI_WORKER_USER', 'uid[:gid] or a user name'],
      [
        'HODEI_ALLOWED_IMAGES',
        'a comma list of image patterns with * and ** globs, like docker.io/library/*; "ghcr.io/$(x)" is not an image pattern (a reference with * and ** globs)',
      ],
    ]);
  });
});
