import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registryPattern, type DockerConnection } from '@hodei/docker-adapter';
import { requireTestDocker, testWorkerImage } from '@hodei/docker-adapter/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type HodeiServer } from '../composition/create-server.js';
import { formatConfigProblems, parseConfig } from '../config/config.js';
import { EnvReader } from '../config/env-reader.js';
import { readObservabilityConfig } from '../config/observability-config.js';
import { providerKey } from '../config/docker-settings.js';
import { removeContainersOf, uniqueProviderId } from '../testing/server-process.js';
import {
  apiClient,
  eventually,
  startTestServer,
  TEST_TOKEN,
  type Api,
  type TestServer,
} from '../testing/test-server.js';

/**
 * What the server says about itself over real HTTP: a line per request (hijacked streams
 * too), every 5xx with its cause, `/readyz` degraded by a provider on which no container can
 * start (and not by a client's unreachable registry), and the metrics of workers' lives. In-process, logs to a file of this test's own.
 */

type LogLine = Record<string, unknown>;

const dirs: string[] = [];
const tempLogFile = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'hodei-observability-'));
  dirs.push(dir);
  return join(dir, 'server.log');
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const readLog = async (file: string): Promise<LogLine[]> =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogLine);

/** The value of one sample of the metrics text, or undefined when it is absent. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const metricsText = async (url: string): Promise<string> => (await fetch(`${url}/metrics`)).text();

describe('Docker providers: one on a network that does not exist, one asked for images no registry serves', () => {
  let docker: DockerConnection['docker'];
  let t: TestServer;
  let logFile: string;
  // Healthy: its engine starts containers; its clients ask for an image it cannot pull.
  const healthy = uniqueProviderId();
  // No container can start on it: its network does not exist.
  const broken = uniqueProviderId();
  const missingNetwork = `no-such-net-${broken}`;
  const unreachable = `127.0.0.1:9/hodei/missing-${healthy}:1`;
  const attempt = (id: string, correlationId: string) =>
    t.api('POST', '/v1/workers', {
      body: { id, providerId: healthy, mode: 'job', image: unreachable },
      headers: { 'x-correlation-id': correlationId },
    });
  const createOnBroken = (id: string) =>
    t.api('POST', '/v1/workers', {
      body: { id, providerId: broken, mode: 'job', command: ['true'] },
    });
  const up = async (provider: string): Promise<number | undefined> =>
    sample(await metricsText(t.url), `hodei_provider_up{provider="${provider}"}`);

  beforeAll(async () => {
    docker = (await requireTestDocker()).docker;
    logFile = await tempLogFile();
    t = await startTestServer(
      {
        HODEI_PROVIDERS: `docker:${healthy},docker:${broken}`,
        [`HODEI_PROVIDER_${providerKey(broken)}_DOCKER_NETWORK`]: missingNetwork,
        // Long enough for the checks right after the third failure, short for the lapse.
        HODEI_PROVIDER_DEGRADED_FOR_SECONDS: '5',
        HODEI_LOG_LEVEL: 'info',
        HODEI_ALLOWED_IMAGES: `${registryPattern(testWorkerImage())},127.0.0.1:9/**`,
      },
      { logDestination: logFile },
    );
  });

  afterAll(async () => {
    await t?.stop();
    if (docker !== undefined) await removeContainersOf(docker, [healthy, broken]);
  });

  it('logs the 5xx with its cause on the request line, and the failed provider call', async () => {
    const answer = await attempt('unreachable-1', 'corr-unreachable-1');
    expect(answer.status).toBe(503);
    expect(answer.body.error).toBe('ProviderFailure');

    const lines = await readLog(logFile);
    const request = lines.find(
      (l) => l['msg'] === 'request failed' && l['correlationId'] === 'corr-unreachable-1',
    );
    expect(request).toMatchObject({
      level: 50,
      method: 'POST',
      route: '/v1/workers',
      path: '/v1/workers',
      status: 503,
      durationMs: expect.any(Number),
      error: {
        type: 'ProviderFailure',
        message: expect.stringContaining(`could not pull image ${unreachable}`),
      },
      cause: expect.anything(),
    });
    expect(JSON.stringify(request?.['cause'])).toMatch(/127\.0\.0\.1:9/);

    // The client's registry, not the engine: a warning, not counted against the provider.
    const call = lines.find(
      (l) => l['msg'] === 'provider call refused' && l['workerId'] === 'unreachable-1',
    );
    expect(call).toMatchObject({
      level: 40,
      provider: healthy,
      kind: 'docker',
      operation: 'create',
      error: { type: 'ProviderFailure', operation: 'pullImage', retryable: true },
    });
  });

  it('stays ready after 3 creates of an image from a registry that cannot be reached: a client’s typo does not take the server out of rotation', async () => {
    await attempt('unreachable-2', 'corr-unreachable-2');
    await attempt('unreachable-3', 'corr-unreachable-3');
    const ready = await t.api('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks[`provider:${healthy}`].ok).toBe(true);
    expect(await up(healthy)).toBe(1);
  });

  it('turns /readyz and hodei_provider_up down after 3 creates fail on the missing network, saying why, without an error line per probe', async () => {
    const check = `provider:${broken}`;
    for (const id of ['netless-1', 'netless-2', 'netless-3']) {
      const answer = await createOnBroken(id);
      expect(answer.status).toBe(503);
      expect(answer.body.error).toBe('ProviderFailure');
    }
    const degraded = await t.api('GET', '/readyz', {
      headers: { 'x-correlation-id': 'corr-probe-degraded' },
    });
    expect(degraded.status).toBe(503);
    expect(degraded.body.checks[check]).toEqual({
      ok: false,
      detail: expect.stringMatching(
        new RegExp(
          `^degraded: create failed 3 times since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: .*${missingNetwork}`,
        ),
      ),
    });
    expect(degraded.body.checks[`provider:${healthy}`].ok).toBe(true);
    // Anonymous probes learn only which check fails.
    const anonymous = await t.api('GET', '/readyz', { token: null });
    expect(anonymous.status).toBe(503);
    expect(anonymous.body.checks[check]).toEqual({ ok: false });
    expect(await up(broken)).toBe(0);
    expect(await up(healthy)).toBe(1);

    const lines = await readLog(logFile);
    expect(
      lines.filter((l) => l['msg'] === 'provider call failed' && l['provider'] === broken),
    ).toHaveLength(3);
    // A probe's 503 is its answer, at debug like every probe: not an error line per probe.
    expect(lines.filter((l) => l['route'] === '/readyz')).toEqual([]);
  });

  it('is ready again once the period passes without a failure, and the other provider kept starting workers', async () => {
    const created = await t.api('POST', '/v1/workers', {
      body: { id: 'reachable-1', providerId: healthy, mode: 'job', command: ['true'] },
    });
    expect(created.status).toBe(201);
    const ready = await eventually(
      () => t.api('GET', '/readyz'),
      (r) => r.status === 200,
    );
    expect(ready.status).toBe(200);
    expect(ready.body.checks[`provider:${broken}`].ok).toBe(true);
    expect(await up(broken)).toBe(1);
    await t.api('DELETE', '/v1/workers/reachable-1?wait=true');
  });
});

describe('the request log and the metrics of a worker’s life, on the simulated cluster', () => {
  let t: TestServer;
  let logFile: string;

  beforeAll(async () => {
    logFile = await tempLogFile();
    t = await startTestServer({ HODEI_LOG_LEVEL: 'debug' }, { logDestination: logFile });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('writes one line per request with method, route, status, duration and correlation id; probes at debug', async () => {
    await t.api('GET', '/v1/workers?limit=5', { headers: { 'x-correlation-id': 'corr-list-1' } });
    await t.api('GET', '/v1/workers/nobody', { headers: { 'x-correlation-id': 'corr-get-1' } });
    await fetch(`${t.url}/healthz`, { headers: { 'x-correlation-id': 'corr-probe-1' } });
    await t.api('GET', '/nowhere', { headers: { 'x-correlation-id': 'corr-404-1' } });

    const lines = await eventually(
      () => readLog(logFile),
      (ls) => ls.some((l) => l['correlationId'] === 'corr-404-1'),
    );
    const byCorrelation = (id: string) => lines.filter((l) => l['correlationId'] === id);
    expect(byCorrelation('corr-list-1')).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        method: 'GET',
        route: '/v1/workers',
        path: '/v1/workers',
        status: 200,
        durationMs: expect.any(Number),
      }),
    ]);
    expect(byCorrelation('corr-get-1')).toEqual([
      expect.objectContaining({ level: 30, route: '/v1/workers/:id', status: 404 }),
    ]);
    expect(byCorrelation('corr-probe-1')).toEqual([
      expect.objectContaining({ level: 20, route: '/healthz', status: 200 }),
    ]);
    expect(byCorrelation('corr-404-1')).toEqual([
      expect.objectContaining({ route: 'unmatched', path: '/nowhere', status: 404 }),
    ]);
    // The query string may carry a ticket: never logged.
    expect(JSON.stringify(lines)).not.toContain('limit=5');
  });

  it('counts a worker’s life: lifetime, termination and cleanup by reason, request latency, build and provider', async () => {
    expect(
      (await t.api('POST', '/v1/workers', { body: { id: 'life-1', mode: 'agent' } })).status,
    ).toBe(201);
    expect((await t.api('DELETE', '/v1/workers/life-1?wait=true')).status).toBe(200);
    const text = await eventually(
      () => metricsText(t.url),
      (m) =>
        (sample(m, 'hodei_worker_cleanups_total{provider="k8s-stub",reason="NormalTermination"}') ??
          0) > 0,
    );
    const p = 'provider="k8s-stub"';
    expect(
      sample(text, `hodei_worker_lifetime_seconds_count{${p},mode="agent",outcome="terminated"}`),
    ).toBe(1);
    expect(sample(text, `hodei_worker_terminations_total{${p},reason="ManualTermination"}`)).toBe(
      1,
    );
    expect(sample(text, `hodei_worker_terminations_total{${p},reason="IdleTimeout"}`)).toBe(0);
    expect(sample(text, `hodei_worker_cleanups_total{${p},reason="NormalTermination"}`)).toBe(1);
    expect(sample(text, `hodei_worker_cleanups_total{${p},reason="TtlExpired"}`)).toBe(0);
    expect(
      sample(
        text,
        'hodei_http_request_duration_seconds_count{method="POST",route="/v1/workers",status_class="2xx"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'hodei_http_request_duration_seconds_count{method="GET",route="/v1/workers/:id",status_class="4xx"}',
      ),
    ).toBe(1);
    for (const publisher of ['logger', 'live', 'metrics'])
      expect(
        sample(text, `hodei_event_publish_failures_total{${p},publisher="${publisher}"}`),
      ).toBe(0);
    expect(sample(text, `hodei_build_info{version="0.1.0",node="${process.versions.node}"}`)).toBe(
      1,
    );
    expect(sample(text, `hodei_provider_up{${p}}`)).toBe(1);

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error, 'promtool is missing: run scripts/services.sh up').toBeUndefined();
    const report = `${check.stdout}${check.stderr}`;
    expect(report).not.toMatch(/error|parse/i);
    expect(report.split('\n').filter((line) => line.includes('hodei_'))).toEqual([]);
  });
});

describe('the streams handed past Fastify (SSE, followed logs)', () => {
  let t: TestServer;
  let logFile: string;

  beforeAll(async () => {
    logFile = await tempLogFile();
    t = await startTestServer({ HODEI_LOG_LEVEL: 'info' }, { logDestination: logFile });
  });

  afterAll(async () => {
    await t?.stop();
  });

  /** Opens the stream, waits for its headers, and goes away as a client does. */
  const openAndLeave = async (path: string, correlationId: string): Promise<number> => {
    const gone = new AbortController();
    const response = await fetch(`${t.url}${path}`, {
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'x-correlation-id': correlationId },
      signal: gone.signal,
    });
    gone.abort();
    return response.status;
  };

  it('write their request line and count in the request metrics once the client goes away', async () => {
    expect(
      (await t.api('POST', '/v1/workers', { body: { id: 'follow-1', mode: 'agent' } })).status,
    ).toBe(201);
    expect(await openAndLeave('/v1/events', 'corr-sse-1')).toBe(200);
    expect(await openAndLeave('/v1/workers/follow-1/logs?follow=true', 'corr-follow-1')).toBe(200);

    const lines = await eventually(
      () => readLog(logFile),
      (ls) =>
        ['corr-sse-1', 'corr-follow-1'].every((c) => ls.some((l) => l['correlationId'] === c)),
    );
    expect(lines.filter((l) => l['correlationId'] === 'corr-sse-1')).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        method: 'GET',
        route: '/v1/events',
        status: 200,
        durationMs: expect.any(Number),
      }),
    ]);
    expect(lines.filter((l) => l['correlationId'] === 'corr-follow-1')).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        route: '/v1/workers/:id/logs',
        path: '/v1/workers/follow-1/logs',
        status: 200,
      }),
    ]);
    const text = await metricsText(t.url);
    for (const route of ['/v1/events', '/v1/workers/:id/logs']) {
      expect(
        sample(text, `hodei_http_requests_total{method="GET",route="${route}",status="200"}`),
      ).toBe(1);
      expect(
        sample(
          text,
          `hodei_http_request_duration_seconds_count{method="GET",route="${route}",status_class="2xx"}`,
        ),
      ).toBe(1);
    }
    await t.api('DELETE', '/v1/workers/follow-1?wait=true');
  });

  it('answers HEAD with the headers and ends, instead of an endless stream without a body', async () => {
    expect(
      (await t.api('POST', '/v1/workers', { body: { id: 'head-1', mode: 'agent' } })).status,
    ).toBe(201);
    for (const [path, type] of [
      ['/v1/events', 'text/event-stream'],
      ['/v1/workers/head-1/logs?follow=true', 'text/plain'],
    ] as const) {
      const head = await t.api('HEAD', path);
      expect(head.status).toBe(200);
      expect(head.headers.get('content-type')).toContain(type);
      expect(head.body).toBeUndefined();
    }
    await t.api('DELETE', '/v1/workers/head-1?wait=true');
  });
});

describe('a publisher that fails', () => {
  let t: TestServer;

  beforeAll(async () => {
    // The log (and so the logger publisher) on a device that is always full.
    t = await startTestServer({ HODEI_LOG_LEVEL: 'info' }, { logDestination: '/dev/full' });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('is counted in hodei_event_publish_failures_total under its name', async () => {
    expect(
      (await t.api('POST', '/v1/workers', { body: { id: 'full-1', mode: 'agent' } })).status,
    ).toBe(201);
    const text = await metricsText(t.url);
    const p = 'provider="k8s-stub"';
    expect(
      sample(text, `hodei_event_publish_failures_total{${p},publisher="logger"}`),
    ).toBeGreaterThan(0);
    expect(sample(text, `hodei_event_publish_failures_total{${p},publisher="live"}`)).toBe(0);
    await t.api('DELETE', '/v1/workers/full-1?wait=true');
  });
});

/** Makes the next call of the service's `list` throw, as a bug would. */
const breakListOnce = (server: HodeiServer): void => {
  const service = server.service as unknown as { list: (...args: unknown[]) => unknown };
  const list = service.list.bind(service);
  service.list = () => {
    service.list = list;
    throw new Error('boom: the listing broke');
  };
};

describe('a request that throws', () => {
  let t: TestServer;
  let logFile: string;

  beforeAll(async () => {
    logFile = await tempLogFile();
    t = await startTestServer({ HODEI_LOG_LEVEL: 'info' }, { logDestination: logFile });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('answers 500 without the cause and logs the cause with its stack on the request line', async () => {
    breakListOnce(t.server);
    const answer = await t.api('GET', '/v1/workers', {
      headers: { 'x-correlation-id': 'corr-boom' },
    });
    expect(answer.status).toBe(500);
    expect(JSON.stringify(answer.body)).not.toContain('boom');
    const lines = await readLog(logFile);
    expect(lines.filter((l) => l['correlationId'] === 'corr-boom')).toEqual([
      expect.objectContaining({
        level: 50,
        msg: 'request failed',
        route: '/v1/workers',
        status: 500,
        error: { type: 'InternalError', message: 'boom: the listing broke' },
        cause: expect.objectContaining({
          type: 'Error',
          message: 'boom: the listing broke',
          stack: expect.stringContaining('observability.e2e.test.ts'),
        }),
      }),
    ]);
  });
});

describe('the observability settings', () => {
  let server: HodeiServer | undefined;

  afterAll(async () => {
    await server?.stop();
  });

  /** A server whose configuration carries the observability settings read from `env`. */
  const start = async (env: Record<string, string>, logFile: string): Promise<Api> => {
    const full = {
      HODEI_HTTP_PORT: '0',
      HODEI_API_TOKEN: TEST_TOKEN,
      HODEI_PROVIDERS: 'k8s-stub',
      HODEI_EVENT_PUBLISHER: 'logger',
      ...env,
    };
    const config = parseConfig(full);
    if (config.isErr()) throw new Error(formatConfigProblems(config.error));
    const reader = new EnvReader(full);
    const observability = readObservabilityConfig(reader);
    expect(reader.problems).toEqual([]);
    const made = await createServer(
      { ...config.value, observability },
      {
        logDestination: logFile,
        clusterTickMs: 50,
      },
    );
    if (made.isErr()) throw new Error(made.error.message);
    server = made.value;
    return apiClient(made.value.url);
  };

  it('writes pino-pretty lines with HODEI_LOG_FORMAT=pretty, requests at HODEI_REQUEST_LOG_LEVEL and a 5xx at error regardless', async () => {
    const logFile = await tempLogFile();
    const api = await start(
      { HODEI_LOG_LEVEL: 'info', HODEI_LOG_FORMAT: 'pretty', HODEI_REQUEST_LOG_LEVEL: 'debug' },
      logFile,
    );
    await api('GET', '/v1/workers', { headers: { 'x-correlation-id': 'corr-quiet' } });
    breakListOnce(server!);
    await api('GET', '/v1/workers', { headers: { 'x-correlation-id': 'corr-loud' } });
    await server!.stop();
    server = undefined;
    const text = await readFile(logFile, 'utf8');
    // Human lines, not JSON: `[time] LEVEL (pid): message` and the fields below.
    expect(text.split('\n')[0]).not.toMatch(/^\{/);
    expect(text).toMatch(/ERROR.*: request failed/);
    expect(text).toContain('corr-loud');
    expect(text).toContain('boom: the listing broke');
    // At debug while the log is at info: not written.
    expect(text).not.toContain('corr-quiet');
  });
});
