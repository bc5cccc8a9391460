import { dockerProfile, type ProviderId } from '@hodei/domain';
import { InMemoryWorkerProvider, ManualClock, SequentialIdGenerator } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { parseCreateRequest, policyOverride } from './create-request.js';
import type { ProviderEntry } from './provider-entry.js';
import { WorkerLookup } from './worker-lookup.js';

const providerId = 'fake' as ProviderId;
const entry: ProviderEntry = {
  id: providerId,
  kind: 'docker',
  provider: new InMemoryWorkerProvider(providerId, new ManualClock()),
  policy: dockerProfile,
};
const lookup = new WorkerLookup([entry], entry);
const defaults = (maxLifetimeCap?: number) => ({
  ids: new SequentialIdGenerator(),
  defaultImage: 'hodei/worker:0.1.0',
  ...(maxLifetimeCap === undefined ? {} : { maxLifetimeCap }),
});

describe('a create request under HODEI_MAX_LIFETIME_SECONDS', () => {
  it('refuses a maxLifetime above the cap, naming the field and the setting', () => {
    const parsed = parseCreateRequest(
      { policy: { maxLifetimeSeconds: 601, idleTimeoutSeconds: 60, startupTimeoutSeconds: 60 } },
      lookup,
      defaults(600_000),
    );
    expect(parsed._unsafeUnwrapErr()).toMatchObject({
      type: 'ValidationFailed',
      problems: [
        {
          path: 'body.policy.maxLifetimeSeconds',
          message: "601 s is above the operator's cap HODEI_MAX_LIFETIME_SECONDS=600",
        },
      ],
    });
  });

  it('takes one at the cap, and cuts a provider default above it to the cap', () => {
    const atCap = parseCreateRequest(
      { policy: { maxLifetimeSeconds: 600, idleTimeoutSeconds: 60, startupTimeoutSeconds: 60 } },
      lookup,
      defaults(600_000),
    );
    expect(atCap._unsafeUnwrap().spec.policy.maxLifetime).toBe(600_000);
    // dockerProfile: 30 min, above a 20 min cap; its idle and startup timeouts fit under it.
    const cut = parseCreateRequest({}, lookup, defaults(1_200_000));
    expect(dockerProfile.maxLifetime).toBeGreaterThan(1_200_000);
    expect(cut._unsafeUnwrap().spec.policy.maxLifetime).toBe(1_200_000);
    const uncapped = parseCreateRequest({}, lookup, defaults());
    expect(uncapped._unsafeUnwrap().spec.policy).toBe(dockerProfile);
  });

  it('cuts the default idle and startup timeouts with a default lifetime cut below them', () => {
    // dockerProfile's idle and startup timeouts (5 min, 2 min) are above a 60 s cap.
    expect(dockerProfile.idleTimeout).toBeGreaterThan(60_000);
    expect(dockerProfile.startupTimeout).toBeGreaterThan(60_000);
    const plain = parseCreateRequest({}, lookup, defaults(60_000))._unsafeUnwrap().spec.policy;
    expect(plain).toMatchObject({
      maxLifetime: 60_000,
      idleTimeout: 60_000,
      startupTimeout: 60_000,
    });
    // What the caller sets is kept, and checked.
    const set = parseCreateRequest(
      { policy: { idleTimeoutSeconds: 30 } },
      lookup,
      defaults(60_000),
    )._unsafeUnwrap().spec.policy;
    expect(set).toMatchObject({ idleTimeout: 30_000, startupTimeout: 60_000 });
    const tooLong = parseCreateRequest(
      { policy: { startupTimeoutSeconds: 61 } },
      lookup,
      defaults(60_000),
    );
    expect(tooLong._unsafeUnwrapErr()).toMatchObject({
      problems: [{ path: 'body.policy.startupTimeoutSeconds' }],
    });
  });

  it('names the cap first when the asked maxLifetime breaks another rule too', () => {
    // 31 days: above the cap and above the policy maximum of 30 days.
    const parsed = parseCreateRequest(
      { policy: { maxLifetimeSeconds: 31 * 24 * 3600 } },
      lookup,
      defaults(600_000),
    );
    const error = parsed._unsafeUnwrapErr();
    expect(error.type === 'ValidationFailed' && error.problems[0]).toEqual({
      path: 'body.policy.maxLifetimeSeconds',
      message: "2678400 s is above the operator's cap HODEI_MAX_LIFETIME_SECONDS=600",
    });
  });

  it('names a policy problem by its field in seconds, never in ms', () => {
    const parsed = parseCreateRequest(
      { policy: { maxLifetimeSeconds: 60, idleTimeoutSeconds: 120, startupTimeoutSeconds: 30 } },
      lookup,
      defaults(),
    );
    expect(parsed._unsafeUnwrapErr()).toMatchObject({
      problems: [
        {
          path: 'body.policy.idleTimeoutSeconds',
          message: '120 s must not exceed maxLifetimeSeconds',
        },
      ],
    });
    expect(JSON.stringify(parsed._unsafeUnwrapErr())).not.toMatch(/\d ms\b/);
  });

  it('reads expiryWarningSeconds as the policy field expiryWarning', () => {
    const parsed = parseCreateRequest({ policy: { expiryWarningSeconds: 30 } }, lookup, defaults());
    expect(parsed._unsafeUnwrap().spec.policy.expiryWarning).toBe(30_000);
  });
});

describe('policyOverride', () => {
  it('gives only the fields asked for, in milliseconds, null retention kept', () => {
    expect(policyOverride({ maxLifetimeSeconds: 2, ttlAfterCompletionSeconds: null })).toEqual({
      maxLifetime: 2_000,
      ttlAfterCompletion: null,
    });
    expect(policyOverride({})).toEqual({});
  });
});
