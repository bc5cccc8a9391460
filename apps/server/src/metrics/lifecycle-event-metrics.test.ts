import {
  EphemeralWorkerPolicy,
  silentLogger,
  type LifecycleEvent,
  type ProviderId,
} from '@hodei/domain';
import { lifecycleHarness, type LifecycleHarness } from '@hodei/domain/testing';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RecoveryGate } from '../passes/recovery-gate.js';
import type { ProviderEntry } from '../workers/provider-entry.js';
import { LifecycleEventMetrics, REAP_RULES } from './lifecycle-event-metrics.js';

const PROVIDER = 'managed';
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

/** A provider with a lifecycle manager (on the fakes) and one without. */
function entries(
  h: LifecycleHarness = lifecycleHarness({ providerId: PROVIDER }),
): ProviderEntry[] {
  return [
    {
      id: PROVIDER as ProviderId,
      kind: 'docker',
      provider: h.provider,
      policy: h.policy,
      lifecycle: {
        manager: h.manager,
        managed: h.managed,
        recovery: new RecoveryGate(PROVIDER, h.manager, silentLogger),
      },
    },
    { id: 'bare' as ProviderId, kind: 'docker', provider: h.provider, policy: h.policy },
  ];
}

function metricsOf(
  maxPending?: number,
  h?: LifecycleHarness,
): { metrics: LifecycleEventMetrics; registry: Registry } {
  const registry = new Registry();
  const providers = entries(h);
  return { metrics: new LifecycleEventMetrics([registry], () => providers, maxPending), registry };
}

let n = 0;
const meta = (workerId: string, seconds: number) => {
  n += 1;
  return {
    eventId: `01890000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
    occurredAt: at(seconds),
    providerId: PROVIDER,
    workerId,
    actor: 'gc' as const,
  };
};

const terminating = (
  workerId: string,
  seconds: number,
  reason: 'LifetimeExceeded' | 'IdleTimeout' | 'ManualTermination',
  fields: { deadlineAt?: string; lastActivityAt?: string } = {},
): LifecycleEvent => ({
  ...meta(workerId, seconds),
  type: 'WorkerEphemeralTerminating',
  reason,
  ...(fields.deadlineAt === undefined ? {} : { deadlineAt: fields.deadlineAt }),
  ...(fields.lastActivityAt === undefined
    ? {}
    : { lastActivity: { at: fields.lastActivityAt, by: 'agent-1' } }),
});

const terminated = (
  workerId: string,
  seconds: number,
  fields: {
    reason?: 'LifetimeExceeded' | 'IdleTimeout';
    forced?: boolean;
    deadlineAt?: string;
    lastActivityAt?: string;
  } = {},
): LifecycleEvent => ({
  ...meta(workerId, seconds),
  type: 'WorkerEphemeralTerminated',
  exitCode: fields.forced === true ? null : 0,
  forced: fields.forced ?? false,
  cleanupScheduled: true,
  ttlExpiresAt: at(seconds + 120),
  ...(fields.reason === undefined ? {} : { reason: fields.reason }),
  ...(fields.deadlineAt === undefined ? {} : { deadlineAt: fields.deadlineAt }),
  ...(fields.lastActivityAt === undefined
    ? {}
    : { lastActivity: { at: fields.lastActivityAt, by: 'agent-1' } }),
});

const failed = (
  workerId: string,
  seconds: number,
  reason: 'StartupTimeout' | 'ProviderError',
  deadlineAt?: string,
): LifecycleEvent => ({
  ...meta(workerId, seconds),
  type: 'WorkerEphemeralFailed',
  error: 'not running after startupTimeout (120000 ms)',
  reason,
  ...(deadlineAt === undefined ? {} : { deadlineAt }),
});

const cleanedUp = (
  workerId: string,
  seconds: number,
  cleanupReason: 'TtlExpired' | 'NormalTermination',
  deadlineAt?: string,
): LifecycleEvent => ({
  ...meta(workerId, seconds),
  type: 'WorkerEphemeralCleanedUp',
  cleanupReason,
  cleanupDurationMs: 40,
  ...(deadlineAt === undefined ? {} : { deadlineAt }),
});

/** The samples of a histogram's series with these labels: count, sum and cumulative buckets. */
async function series(
  registry: Registry,
  name: 'hodei_reap_lag_seconds' | 'hodei_idle_tail_seconds',
  labels: Record<string, string>,
): Promise<{ count: number; sum: number; buckets: Map<number, number> } | undefined> {
  const text = await registry.getSingleMetricAsString(name);
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let count: number | undefined;
  let sum: number | undefined;
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    const parsed = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (parsed === null) continue;
    const [, metric, labelText = '', value] = parsed;
    const pairs = labelText.split(',');
    if (!wanted.every((w) => pairs.includes(w))) continue;
    if (metric === `${name}_count`) count = Number(value);
    else if (metric === `${name}_sum`) sum = Number(value);
    else {
      const le = /^le="([^"]+)"$/.exec(pairs.find((p) => p.startsWith('le=')) ?? '')?.[1];
      if (le !== undefined && le !== '+Inf') buckets.set(Number(le), Number(value));
    }
  }
  return count === undefined || sum === undefined ? undefined : { count, sum, buckets };
}

const lag = (registry: Registry, rule: string) =>
  series(registry, 'hodei_reap_lag_seconds', { provider: PROVIDER, rule });
const tail = (registry: Registry) =>
  series(registry, 'hodei_idle_tail_seconds', { provider: PROVIDER });

describe('reap lag and idle tail metrics', () => {
  it('observes a lifetime termination from its deadline to the worker’s stop', async () => {
    const { metrics, registry } = metricsOf();
    await metrics.publishBatch([
      terminating('w-life', 3, 'LifetimeExceeded', { deadlineAt: at(0) }),
      terminated('w-life', 12, { reason: 'LifetimeExceeded' }),
    ]);
    const observed = await lag(registry, 'lifetime');
    expect(observed).toMatchObject({ count: 1, sum: 12 });
    expect(observed?.buckets.get(10)).toBe(0);
    expect(observed?.buckets.get(15)).toBe(1);
    expect((await tail(registry))?.count).toBe(0);
    expect(metrics.pendingTerminations).toBe(0);
  });

  it('observes an idle termination’s lag and its tail from the last activity on the Terminated', async () => {
    const { metrics, registry } = metricsOf();
    await metrics.publishBatch([
      { ...meta('w-idle', 301), type: 'WorkerEphemeralIdle', idleSince: at(0) },
      terminating('w-idle', 301, 'IdleTimeout', { deadlineAt: at(300), lastActivityAt: at(0) }),
      terminated('w-idle', 302.5, { reason: 'IdleTimeout', lastActivityAt: at(0) }),
    ]);
    expect(await lag(registry, 'idle')).toMatchObject({ count: 1, sum: 2.5 });
    const observed = await tail(registry);
    expect(observed).toMatchObject({ count: 1, sum: 302.5 });
    expect(observed?.buckets.get(300)).toBe(0);
    expect(observed?.buckets.get(360)).toBe(1);
  });

  it('takes the idle tail’s last activity from the Terminating, else the Idle, when the Terminated lacks it', async () => {
    const { metrics, registry } = metricsOf();
    await metrics.publishBatch([
      terminating('w-a', 610, 'IdleTimeout', { deadlineAt: at(600), lastActivityAt: at(5) }),
      terminated('w-a', 615, { reason: 'IdleTimeout' }),
      { ...meta('w-b', 400), type: 'WorkerEphemeralIdle', idleSince: at(10) },
      terminating('w-b', 400, 'IdleTimeout', { deadlineAt: at(310) }),
      terminated('w-b', 405),
    ]);
    expect(await tail(registry)).toMatchObject({ count: 2, sum: 610 + 395 });
    expect(await lag(registry, 'idle')).toMatchObject({ count: 2, sum: 15 + 95 });
  });

  it('observes the startup, force-remove and TTL lags from their own events’ deadlines', async () => {
    const { metrics, registry } = metricsOf();
    await metrics.publishBatch([
      failed('w-start', 121, 'StartupTimeout', at(120)),
      terminating('w-force', 10, 'LifetimeExceeded', { deadlineAt: at(8) }),
      terminated('w-force', 75, { forced: true, deadlineAt: at(70) }),
      cleanedUp('w-ttl', 150, 'TtlExpired', at(120)),
    ]);
    expect(await lag(registry, 'startup')).toMatchObject({ count: 1, sum: 1 });
    expect(await lag(registry, 'forceRemove')).toMatchObject({ count: 1, sum: 5 });
    // Removed by force: that is when its lifetime termination ended.
    expect(await lag(registry, 'lifetime')).toMatchObject({ count: 1, sum: 67 });
    expect(await lag(registry, 'ttl')).toMatchObject({ count: 1, sum: 30 });
  });

  it('observes nothing for events without a deadline or not caused by a deadline', async () => {
    const { metrics, registry } = metricsOf();
    await metrics.publishBatch([
      terminating('w-old', 3, 'LifetimeExceeded'),
      terminated('w-old', 12, { reason: 'LifetimeExceeded' }),
      terminating('w-manual', 3, 'ManualTermination', { deadlineAt: at(0) }),
      terminated('w-manual', 5),
      failed('w-start-old', 121, 'StartupTimeout'),
      failed('w-crash', 121, 'ProviderError', at(120)),
      terminated('w-forced-old', 75, { forced: true }),
      cleanedUp('w-ttl-old', 150, 'TtlExpired'),
      cleanedUp('w-normal', 150, 'NormalTermination', at(120)),
    ]);
    for (const rule of REAP_RULES) expect((await lag(registry, rule))?.count).toBe(0);
    expect(metrics.pendingTerminations).toBe(0);
  });

  it('clamps a negative lag (a deadline after the action, a clock step) at 0', async () => {
    const { metrics, registry } = metricsOf();
    await metrics.publish(cleanedUp('w-early', 100, 'TtlExpired', at(104)));
    const observed = await lag(registry, 'ttl');
    expect(observed).toMatchObject({ count: 1, sum: 0 });
    expect(observed?.buckets.get(0.1)).toBe(1);
  });

  it('forgets a pending termination at the worker’s failure, cleanup or loss', async () => {
    const { metrics, registry } = metricsOf();
    await metrics.publishBatch([
      terminating('w-fail', 3, 'LifetimeExceeded', { deadlineAt: at(0) }),
      terminating('w-clean', 3, 'LifetimeExceeded', { deadlineAt: at(0) }),
      terminating('w-lost', 3, 'IdleTimeout', { deadlineAt: at(0) }),
    ]);
    expect(metrics.pendingTerminations).toBe(3);
    await metrics.publishBatch([
      failed('w-fail', 4, 'ProviderError'),
      cleanedUp('w-clean', 4, 'NormalTermination'),
      {
        ...meta('w-lost', 4),
        type: 'WorkerLost',
        resourceId: 'r-lost',
        lastKnownState: 'terminating',
      },
    ]);
    expect(metrics.pendingTerminations).toBe(0);
    // A later life under the same id does not inherit the old deadline.
    await metrics.publish(terminated('w-clean', 50));
    expect((await lag(registry, 'lifetime'))?.count).toBe(0);
  });

  it('keeps at most its bound of pending terminations, forgetting the oldest', async () => {
    const { metrics, registry } = metricsOf(2);
    await metrics.publishBatch([
      terminating('w-1', 1, 'LifetimeExceeded', { deadlineAt: at(0) }),
      terminating('w-2', 2, 'LifetimeExceeded', { deadlineAt: at(0) }),
      terminating('w-3', 3, 'LifetimeExceeded', { deadlineAt: at(0) }),
    ]);
    expect(metrics.pendingTerminations).toBe(2);
    await metrics.publishBatch([
      terminated('w-1', 10),
      terminated('w-2', 20),
      terminated('w-3', 30),
    ]);
    expect(await lag(registry, 'lifetime')).toMatchObject({ count: 2, sum: 50 });
    expect(metrics.pendingTerminations).toBe(0);
  });

  it('shows every rule’s series of each managed provider from the first scrape, and a scrape never resets one', async () => {
    const { metrics, registry } = metricsOf();
    const first = await registry.metrics();
    for (const rule of REAP_RULES)
      expect(first).toContain(
        `hodei_reap_lag_seconds_count{provider="${PROVIDER}",rule="${rule}"} 0`,
      );
    expect(first).toContain(`hodei_idle_tail_seconds_count{provider="${PROVIDER}"} 0`);
    expect(first).not.toContain('provider="bare"');

    await metrics.publishBatch([
      terminating('w-idle', 301, 'IdleTimeout', { deadlineAt: at(300), lastActivityAt: at(0) }),
      terminated('w-idle', 302, { reason: 'IdleTimeout', lastActivityAt: at(0) }),
    ]);
    await registry.metrics();
    const after = await registry.metrics();
    expect(after).toContain(`hodei_reap_lag_seconds_count{provider="${PROVIDER}",rule="idle"} 1`);
    expect(after).toContain(`hodei_idle_tail_seconds_count{provider="${PROVIDER}"} 1`);
    expect(after).toContain(`hodei_reap_lag_seconds_count{provider="${PROVIDER}",rule="ttl"} 0`);
  });

  it('observes the deadlines of a real deadline pass on the fakes: lifetime, idle with its tail, TTL', async () => {
    const s = (seconds: number) => seconds * 1000;
    const policy = EphemeralWorkerPolicy.builder()
      .maxLifetime(s(600))
      .ttlAfterCompletion(s(60))
      .idleTimeout(s(120))
      .gracefulTerminationTimeout(s(10))
      .startupTimeout(s(30))
      .build()
      ._unsafeUnwrap();
    const h = lifecycleHarness({ providerId: PROVIDER, policy });
    const { metrics, registry } = metricsOf(undefined, h);
    const job = await h.create();
    const agent = await h.create({ mode: 'agent' });
    // The pass comes 5 s after the agent's idle deadline: idle lag 5 s, tail 125 s.
    await h.advance(s(125));
    expect((await h.manager.runGcCycle())._unsafeUnwrap().idleTimedOut).toBe(1);
    await h.advance(0);
    // And 10 s after the job's lifetime; the agent, terminated at 125 s and kept 60 s, is
    // cleaned up by the same pass, 425 s late.
    await h.advance(s(485));
    expect((await h.manager.runGcCycle())._unsafeUnwrap()).toMatchObject({
      lifetimeExceeded: 1,
      ttlExpired: 1,
    });
    await h.advance(0);
    expect(h.manager.getWorker(agent.workerId)).toBeUndefined();
    expect(h.manager.getWorker(job.workerId)?.state).toBe('terminated');

    await metrics.publishBatch(h.publisher.events);
    expect(await lag(registry, 'idle')).toMatchObject({ count: 1, sum: 5 });
    expect(await tail(registry)).toMatchObject({ count: 1, sum: 125 });
    expect(await lag(registry, 'lifetime')).toMatchObject({ count: 1, sum: 10 });
    expect(await lag(registry, 'ttl')).toMatchObject({ count: 1, sum: 425 });
    expect(metrics.pendingTerminations).toBe(0);
  });
});
