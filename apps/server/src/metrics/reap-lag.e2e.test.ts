import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DockerConnection } from '@hodei/docker-adapter';
import { requireTestDocker } from '@hodei/docker-adapter/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeBlocks, REPOSITORY_ROOT } from '../docs/readme-code-blocks.js';
import { removeContainersOf, uniqueProviderId } from '../testing/server-process.js';
import { eventually, startTestServer, type TestServer } from '../testing/test-server.js';
import { dockerEnvOfRun } from '../testing/docker-env.js';

/**
 * The reap lag and idle tail of real deadline passes, on the Docker Engine: a job past its
 * maxLifetime and TTL and an agent past its idleTimeout show in `/metrics` per rule, next to
 * the series of the rules that did not fire (0 from the first scrape). And the alert rules
 * docs/operations.md gives for them, run by promtool on series of that shape.
 */

/** The value of one sample of the metrics text, or undefined when it is absent. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('reap lag and idle tail on Docker', () => {
  let docker: DockerConnection['docker'];
  let t: TestServer;
  const provider = uniqueProviderId();
  const p = `provider="${provider}"`;
  const metricsText = async (): Promise<string> => (await fetch(`${t.url}/metrics`)).text();
  const lagCount = (text: string, rule: string) =>
    sample(text, `hodei_reap_lag_seconds_count{${p},rule="${rule}"}`) ?? 0;

  beforeAll(async () => {
    docker = (await requireTestDocker()).docker;
    t = await startTestServer({
      HODEI_PROVIDERS: `docker:${provider}`,
      HODEI_GC_INTERVAL_SECONDS: '1',
      ...dockerEnvOfRun(),
    });
  });

  afterAll(async () => {
    await t?.stop();
    if (docker !== undefined) await removeContainersOf(docker, [provider]);
  });

  it('shows every rule’s series at 0 before any deadline passed', async () => {
    const text = await metricsText();
    for (const rule of ['lifetime', 'idle', 'startup', 'forceRemove', 'ttl'])
      expect(sample(text, `hodei_reap_lag_seconds_count{${p},rule="${rule}"}`)).toBe(0);
    expect(sample(text, `hodei_idle_tail_seconds_count{${p}}`)).toBe(0);
  });

  it('observes a job past its maxLifetime and TTL, and an agent past its idleTimeout', async () => {
    const job = await t.api('POST', '/v1/workers', {
      body: {
        id: `${provider}-life`,
        providerId: provider,
        mode: 'job',
        command: ['sleep', '3600'],
        policy: {
          maxLifetimeSeconds: 3,
          idleTimeoutSeconds: 3,
          startupTimeoutSeconds: 3,
          gracefulTerminationTimeoutSeconds: 1,
          ttlAfterCompletionSeconds: 1,
        },
      },
    });
    expect(job.status).toBe(201);
    const agent = await t.api('POST', '/v1/workers', {
      body: {
        id: `${provider}-idle`,
        providerId: provider,
        mode: 'agent',
        command: ['sleep', '3600'],
        policy: {
          maxLifetimeSeconds: 600,
          idleTimeoutSeconds: 2,
          gracefulTerminationTimeoutSeconds: 1,
          ttlAfterCompletionSeconds: 600,
        },
      },
    });
    expect(agent.status).toBe(201);

    const text = await eventually(
      metricsText,
      (m) =>
        lagCount(m, 'lifetime') >= 1 &&
        lagCount(m, 'ttl') >= 1 &&
        lagCount(m, 'idle') >= 1 &&
        (sample(m, `hodei_idle_tail_seconds_count{${p}}`) ?? 0) >= 1,
      120_000,
    );
    expect(lagCount(text, 'lifetime')).toBe(1);
    expect(lagCount(text, 'ttl')).toBe(1);
    expect(lagCount(text, 'idle')).toBe(1);
    expect(lagCount(text, 'startup')).toBe(0);
    expect(sample(text, `hodei_idle_tail_seconds_count{${p}}`)).toBe(1);
    // Each lag counts from its deadline: a life is its maxLifetime plus its lag, an idle tail
    // the idleTimeout plus the idle lag.
    const life = sample(
      text,
      `hodei_worker_lifetime_seconds_sum{${p},mode="job",outcome="terminated"}`,
    );
    const lifetimeLag = sample(text, `hodei_reap_lag_seconds_sum{${p},rule="lifetime"}`);
    expect((life ?? NaN) - (lifetimeLag ?? NaN)).toBeCloseTo(3, 3);
    const idleTail = sample(text, `hodei_idle_tail_seconds_sum{${p}}`);
    const idleLag = sample(text, `hodei_reap_lag_seconds_sum{${p},rule="idle"}`);
    expect((idleTail ?? NaN) - (idleLag ?? NaN)).toBeCloseTo(2, 3);

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error, 'promtool is missing: run scripts/services.sh up').toBeUndefined();
    const report = `${check.stdout}${check.stderr}`;
    expect(report).not.toMatch(/error|parse/i);
    expect(report.split('\n').filter((line) => line.includes('hodei_'))).toEqual([]);
  });
});

/**
 * promtool's unit test of the rules: late lifetime stops and idle tails fire, on-time TTL and a
 * Kubernetes-profile idle tail within its 660 s do not.
 */
const RULES_TEST = `rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # 10 lifetime stops a minute, every one 60 to 90 s late.
      - series: 'hodei_reap_lag_seconds_bucket{provider="late",rule="lifetime",le="60"}'
        values: '0x60'
      - series: 'hodei_reap_lag_seconds_bucket{provider="late",rule="lifetime",le="90"}'
        values: '0+10x60'
      - series: 'hodei_reap_lag_seconds_bucket{provider="late",rule="lifetime",le="+Inf"}'
        values: '0+10x60'
      # 10 TTL cleanups a minute, within 45 s.
      - series: 'hodei_reap_lag_seconds_bucket{provider="late",rule="ttl",le="45"}'
        values: '0+10x60'
      - series: 'hodei_reap_lag_seconds_bucket{provider="late",rule="ttl",le="+Inf"}'
        values: '0+10x60'
      # An idle worker a minute, stopped 360 to 600 s after its last activity.
      - series: 'hodei_idle_tail_seconds_bucket{provider="late",le="360"}'
        values: '0x120'
      - series: 'hodei_idle_tail_seconds_bucket{provider="late",le="600"}'
        values: '0+1x120'
      - series: 'hodei_idle_tail_seconds_bucket{provider="late",le="+Inf"}'
        values: '0+1x120'
      # A Kubernetes-profile provider (idleTimeout 600 s): 600 to 660 s is on time.
      - series: 'hodei_idle_tail_seconds_bucket{provider="k8s-stub",le="600"}'
        values: '0x120'
      - series: 'hodei_idle_tail_seconds_bucket{provider="k8s-stub",le="660"}'
        values: '0+1x120'
      - series: 'hodei_idle_tail_seconds_bucket{provider="k8s-stub",le="+Inf"}'
        values: '0+1x120'
      # A provider with its series at 0: nothing observed, nothing fires.
      - series: 'hodei_reap_lag_seconds_bucket{provider="quiet",rule="lifetime",le="+Inf"}'
        values: '0x120'
      - series: 'hodei_idle_tail_seconds_bucket{provider="quiet",le="+Inf"}'
        values: '0x120'
    alert_rule_test:
      - eval_time: 10m
        alertname: HodeiTerminationsLate
        exp_alerts: []
      - eval_time: 50m
        alertname: HodeiTerminationsLate
        exp_alerts:
          - exp_labels: { severity: warning, provider: late, rule: lifetime }
            exp_annotations:
              summary: 'late: p99 lifetime stop 1m 29s past the deadline'
      - eval_time: 50m
        alertname: HodeiCleanupsLate
        exp_alerts: []
      - eval_time: 110m
        alertname: HodeiIdleTailLong
        exp_alerts:
          - exp_labels: { severity: warning, provider: late }
            exp_annotations:
              summary: 'late: idle workers stopped 9m 57s after their last activity'
`;

describe('the alert rules of docs/operations.md', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('load in promtool and fire on late stops and long idle tails, not on an idle provider', async () => {
    const file = 'docs/operations.md';
    const blocks = codeBlocks(file, await readFile(join(REPOSITORY_ROOT, file), 'utf8'));
    const rules = blocks.find((b) => b.lang === 'yaml' && b.code.includes('hodei-deadlines'));
    expect(rules, 'the hodei-deadlines rule group in docs/operations.md').toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'hodei-alert-rules-'));
    dirs.push(dir);
    await writeFile(join(dir, 'rules.yaml'), rules?.code ?? '');
    await writeFile(join(dir, 'rules.test.yaml'), RULES_TEST);
    const run = spawnSync('promtool', ['test', 'rules', 'rules.test.yaml'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(run.error, 'promtool is missing: run scripts/services.sh up').toBeUndefined();
    expect(`${run.stdout}${run.stderr}`).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });
});
