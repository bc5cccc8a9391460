import { EphemeralWorkerPolicyBuilder } from './policy-builder.js';
import { mergePolicy } from './policy-override.js';
import { retentionOf, validatePolicy, type EphemeralWorkerPolicy as Policy } from './policy.js';
import { dockerProfile, kubernetesProfile } from './profiles.js';

/** SPEC §3.4. Durations are integer milliseconds. */
export type EphemeralWorkerPolicy = Policy;

/** The policy's namespace: `EphemeralWorkerPolicy.builder().maxLifetime(1_800_000).build()`. */
export const EphemeralWorkerPolicy = {
  builder: (base?: Policy): EphemeralWorkerPolicyBuilder => new EphemeralWorkerPolicyBuilder(base),
  validate: validatePolicy,
  merge: mergePolicy,
  retentionOf,
  docker: dockerProfile,
  kubernetes: kubernetesProfile,
} as const;
