import { parseProviderId, type ProviderId } from '@hodei/domain';
import type { ConfigFile } from './config-file.js';
import { readDockerProviderConfig, type DockerProviderConfig } from './docker-provider-config.js';
import { providerNames } from './docker-settings.js';
import type { EnvReader } from './env-reader.js';
import { PROVIDER_ID_ACCEPTS, PROVIDER_KINDS, type ProviderKind } from './provider-kinds.js';

/** The providers as HODEI_PROVIDERS (or the file's `providers`) lists them. */
export interface ProviderListing {
  readonly kind: ProviderKind;
  readonly id: ProviderId;
}

/** One configured provider; a Docker one with its own engine, network, registry, limits. */
export type ProviderConfig =
  | { readonly kind: 'docker'; readonly id: ProviderId; readonly docker: DockerProviderConfig }
  | { readonly kind: 'k8s-stub'; readonly id: ProviderId };

const ACCEPTS = `a comma list of <kind>[:<id>], kinds 'docker' and 'k8s-stub', ${PROVIDER_ID_ACCEPTS.replace(/^an /, '')}`;

/**
 * `HODEI_PROVIDERS`, or the file's `providers` list when it is unset. With both, the
 * variable decides which providers run and of what kind; a file entry of another kind for
 * one of its ids is a problem, entries for other ids are unused.
 */
export function readProviderList(
  reader: EnvReader,
  file: ConfigFile | undefined,
): ProviderListing[] {
  const providers: ProviderListing[] = [];
  const raw = reader.read('HODEI_PROVIDERS') ?? 'docker';
  const seen = new Set<string>();
  for (const item of raw.split(',').map((s) => s.trim())) {
    const parts = item.split(':');
    const [kind, id = kind] = parts;
    if (parts.length > 2) {
      reader.problem(
        'HODEI_PROVIDERS',
        raw,
        `${ACCEPTS}; ${JSON.stringify(item)} has more than one ':'`,
      );
      continue;
    }
    if (!(PROVIDER_KINDS as readonly string[]).includes(kind ?? '')) {
      reader.problem('HODEI_PROVIDERS', raw, `${ACCEPTS}; unknown kind ${JSON.stringify(kind)}`);
      continue;
    }
    const parsed = parseProviderId(id);
    if (parsed.isErr()) {
      reader.problem('HODEI_PROVIDERS', raw, `${ACCEPTS}; invalid id ${JSON.stringify(id)}`);
      continue;
    }
    if (seen.has(parsed.value)) {
      reader.problem(
        'HODEI_PROVIDERS',
        raw,
        `${ACCEPTS}; each id once, but ${JSON.stringify(id)} repeats`,
      );
      continue;
    }
    seen.add(parsed.value);
    providers.push({ kind: kind as ProviderKind, id: parsed.value });
  }
  for (const entry of file?.providers ?? []) {
    const listed = providers.find((p) => p.id === entry.id);
    if (listed !== undefined && listed.kind !== entry.kind) {
      reader.values.add({
        variable: `${entry.origin.key}.kind`,
        value: entry.kind,
        accepts: `${listed.kind}, the kind HODEI_PROVIDERS gives ${entry.id}`,
        file: entry.origin.file,
        line: entry.origin.line,
      });
    }
  }
  return providers;
}

/** Each provider with its settings: a Docker provider's own variables over the shared ones. */
export function readProviderSettings(
  reader: EnvReader,
  providers: readonly ProviderListing[],
  workerImage: string,
): ProviderConfig[] {
  return providers.map((p): ProviderConfig =>
    p.kind === 'docker'
      ? {
          kind: 'docker',
          id: p.id,
          docker: readDockerProviderConfig(reader.forProvider(providerNames(p.id)), workerImage),
        }
      : { kind: 'k8s-stub', id: p.id },
  );
}
