import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from './ephemeral-worker-policy.js';
import { dockerProfile, kubernetesProfile } from './profiles.js';

const s = (n: number) => n * 1000;

describe('EphemeralWorkerPolicy', () => {
  it('has valid docker and kubernetes profiles with the values of SPEC §3.4', () => {
    expect(EphemeralWorkerPolicy.validate(dockerProfile).isOk()).toBe(true);
    expect(EphemeralWorkerPolicy.validate(kubernetesProfile).isOk()).toBe(true);
    expect(dockerProfile).toMatchObject({
      maxLifetime: s(1800),
      ttlAfterCompletion: s(120),
      idleTimeout: s(300),
      gracefulTerminationTimeout: s(30),
      autoCleanupEnabled: true,
      orphanDetectionEnabled: false,
      orphanCheckInterval: s(300),
      startupTimeout: s(120),
      orphanGracePeriod: s(60),
      orphanAction: 'report',
    });
    expect(kubernetesProfile).toMatchObject({
      maxLifetime: s(3600),
      ttlAfterCompletion: s(300),
      idleTimeout: s(600),
      orphanDetectionEnabled: true,
      orphanCheckInterval: s(60),
      startupTimeout: s(300),
    });
  });

  it('builds with one setter per field, in milliseconds', () => {
    const policy = EphemeralWorkerPolicy.builder()
      .maxLifetime(1_800_000)
      .ttlAfterCompletion(null)
      .idleTimeout(60_000)
      .gracefulTerminationTimeout(5_000)
      .startupTimeout(30_000)
      .autoCleanupEnabled(false)
      .orphanDetectionEnabled(true)
      .orphanCheckInterval(10_000)
      .orphanGracePeriod(20_000)
      .orphanAction('remove')
      .expiryWarning(15_000)
      .build();
    expect(policy._unsafeUnwrap()).toEqual({
      maxLifetime: 1_800_000,
      ttlAfterCompletion: null,
      idleTimeout: 60_000,
      gracefulTerminationTimeout: 5_000,
      startupTimeout: 30_000,
      autoCleanupEnabled: false,
      orphanDetectionEnabled: true,
      orphanCheckInterval: 10_000,
      orphanGracePeriod: 20_000,
      orphanAction: 'remove',
      expiryWarning: 15_000,
    });
  });

  it('lists every problem at once', () => {
    const result = EphemeralWorkerPolicy.builder()
      .maxLifetime(0)
      .idleTimeout(-5)
      .startupTimeout(1.5)
      .gracefulTerminationTimeout(31 * 24 * 3600 * 1000)
      .orphanCheckInterval(500)
      .build();
    const fields = result._unsafeUnwrapErr().map((p) => ('field' in p ? p.field : ''));
    expect(fields.sort()).toEqual(
      [
        'gracefulTerminationTimeout',
        'idleTimeout',
        'maxLifetime',
        'orphanCheckInterval',
        'startupTimeout',
      ].sort(),
    );
  });

  it('rejects an idle or startup timeout longer than the max lifetime', () => {
    const problems = EphemeralWorkerPolicy.builder()
      .maxLifetime(s(60))
      .idleTimeout(s(61))
      .startupTimeout(s(90))
      .build()
      ._unsafeUnwrapErr();
    expect(problems.map((p) => p.message)).toEqual([
      'idleTimeout must not exceed maxLifetime (60000 ms)',
      'startupTimeout must not exceed maxLifetime (60000 ms)',
    ]);
  });

  it('treats null and 0 retention alike', () => {
    expect(EphemeralWorkerPolicy.retentionOf({ ...dockerProfile, ttlAfterCompletion: null })).toBe(
      0,
    );
    expect(EphemeralWorkerPolicy.retentionOf({ ...dockerProfile, ttlAfterCompletion: 0 })).toBe(0);
    expect(EphemeralWorkerPolicy.validate({ ...dockerProfile, ttlAfterCompletion: 0 }).isOk()).toBe(
      true,
    );
  });
});

describe('per-worker overrides', () => {
  it('merges the overridable fields and validates the result again', () => {
    const merged = EphemeralWorkerPolicy.merge(dockerProfile, {
      maxLifetime: s(600),
      ttlAfterCompletion: null,
    });
    expect(merged._unsafeUnwrap()).toMatchObject({
      maxLifetime: s(600),
      ttlAfterCompletion: null,
      idleTimeout: s(300),
    });
    const invalid = EphemeralWorkerPolicy.merge(dockerProfile, { maxLifetime: s(100) });
    expect(invalid._unsafeUnwrapErr().map((p) => p.message)).toEqual([
      'idleTimeout must not exceed maxLifetime (100000 ms)',
      'startupTimeout must not exceed maxLifetime (100000 ms)',
    ]);
  });

  it('rejects provider-only and unknown fields, with the other problems', () => {
    const result = EphemeralWorkerPolicy.merge(dockerProfile, {
      orphanAction: 'remove',
      autoCleanupEnabled: false,
      color: 'blue',
      idleTimeout: -1,
    });
    expect(result._unsafeUnwrapErr().map((p) => p.type)).toEqual([
      'ProviderOnlyPolicyField',
      'ProviderOnlyPolicyField',
      'UnknownPolicyField',
      'InvalidPolicyValue',
    ]);
  });

  it('returns the provider policy itself when nothing changes, so workers share it', () => {
    expect(EphemeralWorkerPolicy.merge(dockerProfile, undefined)._unsafeUnwrap()).toBe(
      dockerProfile,
    );
    expect(
      EphemeralWorkerPolicy.merge(dockerProfile, {
        maxLifetime: dockerProfile.maxLifetime,
      })._unsafeUnwrap(),
    ).toBe(dockerProfile);
  });
});
