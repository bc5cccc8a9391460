import type { ConfigFile } from './config-file.js';
import { PROVIDER_VARIABLE_PREFIX, providerKey, SETTING_SUFFIXES } from './docker-settings.js';
import type { ConfigValues, Env } from './env-reader.js';
import type { ProviderListing } from './provider-config.js';

/** Set inside every worker container (ownership env), so also in a server run inside one. */
const WORKER_ENV = new Set(['HODEI_PROVIDER_ID']);

/**
 * After every reader ran: the file's top-level keys no reader asked for, and the
 * `HODEI_PROVIDER_<ID>_<SETTING>` variables that name no setting of a configured docker
 * provider (a mistyped id or setting). Other `HODEI_PROVIDER_…` variables (server-wide
 * ones) are left alone; their values are never shown.
 */
export function reportUnknownSettings(
  values: ConfigValues,
  env: Env,
  file: ConfigFile | undefined,
  providers: readonly ProviderListing[],
): void {
  for (const { variable, origin } of file?.serverKeys ?? []) {
    if (values.asked(variable)) continue;
    values.add({
      variable: origin.key,
      value: '',
      accepts: `a server setting: a HODEI_ variable in camelCase without HODEI_ (httpPort for HODEI_HTTP_PORT), providers or docker; ${variable} is none`,
      file: origin.file,
      line: origin.line,
      unknown: true,
    });
  }
  const docker = providers.filter((p) => p.kind === 'docker').map((p) => providerKey(p.id));
  const keys = providers.map((p) => providerKey(p.id));
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.startsWith(PROVIDER_VARIABLE_PREFIX)) continue;
    if (WORKER_ENV.has(name) || values.asked(name)) continue;
    const rest = name.slice(PROVIDER_VARIABLE_PREFIX.length);
    const looksLikeOne =
      keys.some((key) => rest.startsWith(`${key}_`)) ||
      SETTING_SUFFIXES.some((suffix) => rest.endsWith(`_${suffix}`));
    if (!looksLikeOne) continue;
    values.add({
      variable: name,
      value: '',
      accepts: `HODEI_PROVIDER_<ID>_<SETTING> for a docker provider of HODEI_PROVIDERS (${docker.length === 0 ? 'there is none' : `ID ${docker.join(', ')}`}), SETTING one of ${SETTING_SUFFIXES.join(', ')}`,
      unknown: true,
    });
  }
}
