import { describe, expect, it } from 'vitest';
import { formatConfigProblems, parseConfig } from './config.js';

describe('server configuration', () => {
  it('has the defaults of SPEC §8', () => {
    const config = parseConfig({})._unsafeUnwrap();
    expect(config).toMatchObject({
      httpHost: '127.0.0.1',
      httpPort: 8080,
      apiToken: undefined,
      dataDir: './.hodei',
      lifecycleEnabled: true,
      providers: [{ kind: 'docker', id: 'docker' }],
      publishers: ['logger'],
      gcIntervalMs: 30_000,
      reconcileIntervalMs: 30_000,
      workerImage: 'hodei/worker:0.1.0',
      maxWorkers: 100,
      removeWorkersOnShutdown: false,
    });
  });

  it('publishes to PostgreSQL and the logger when a database is configured', () => {
    expect(parseConfig({ DATABASE_URL: 'postgres://u:p@h/db' })._unsafeUnwrap().publishers).toEqual(
      ['postgres', 'logger'],
    );
  });

  it('reads several providers with their ids', () => {
    expect(
      parseConfig({ HODEI_PROVIDERS: 'docker, k8s-stub:sim-1,docker:docker-b' })._unsafeUnwrap()
        .providers,
    ).toMatchObject([
      { kind: 'docker', id: 'docker', docker: { init: true } },
      { kind: 'k8s-stub', id: 'sim-1' },
      { kind: 'docker', id: 'docker-b', docker: { init: true } },
    ]);
  });

  it('lists every bad variable, naming it and what it accepts', () => {
    const problems = parseConfig({
      HODEI_HTTP_PORT: '80800',
      HODEI_LIFECYCLE_ENABLED: 'maybe',
      HODEI_PROVIDERS: 'docker,nomad',
      HODEI_EVENT_PUBLISHER: 'postgres',
      HODEI_GC_INTERVAL_SECONDS: '0',
      HODEI_MAX_WORKERS: '-3',
      HODEI_API_TOKEN: 'short',
      HODEI_WORKER_IMAGE: 'evil; rm -rf /',
    })._unsafeUnwrapErr();
    expect(problems.map((p) => p.variable)).toEqual([
      'HODEI_HTTP_PORT',
      'HODEI_API_TOKEN',
      'HODEI_LIFECYCLE_ENABLED',
      'HODEI_PROVIDERS',
      'HODEI_EVENT_PUBLISHER',
      'HODEI_GC_INTERVAL_SECONDS',
      'HODEI_WORKER_IMAGE',
      'HODEI_MAX_WORKERS',
    ]);
    const text = formatConfigProblems(problems);
    expect(text).toContain(
      'HODEI_HTTP_PORT="80800" is invalid: it accepts a TCP port from 0 to 65535',
    );
    expect(text).toContain('unknown kind "nomad"');
    expect(text).toContain("'postgres' only together with DATABASE_URL");
    expect(text).not.toContain('short');
  });

  it('refuses a provider item with more than one colon', () => {
    expect(parseConfig({ HODEI_PROVIDERS: 'docker:a:b' })._unsafeUnwrapErr()[0]?.accepts).toContain(
      "more than one ':'",
    );
  });

  it('refuses a provider id given twice', () => {
    expect(
      parseConfig({ HODEI_PROVIDERS: 'docker,docker' })._unsafeUnwrapErr()[0]?.accepts,
    ).toContain('repeats');
  });
});
