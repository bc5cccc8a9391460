export const PROVIDER_KINDS = ['docker', 'k8s-stub'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const PROVIDER_ID_ACCEPTS =
  "an id of lowercase letters, digits and '-' (at most 50, starting and ending with a letter or digit)";
