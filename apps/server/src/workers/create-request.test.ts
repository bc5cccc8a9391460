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
          path: 'policy.maxLifetimeSeconds',
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
