import { UrlAllowlist } from '@hodei/postgres-event-bus';
import type { EnvReader } from './env-reader.js';

/** Webhooks (stored in PostgreSQL): where they may point, how often a delivery is tried. */
export interface WebhookConfig {
  /** HODEI_WEBHOOK_ALLOWED_URLS, normalised; empty: no webhook may be created. */
  readonly allowedUrls: readonly string[];
  /** Requests per event before it goes to the dead letters. */
  readonly maxAttempts: number;
}

export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = { allowedUrls: [], maxAttempts: 8 };

export const ALLOWED_URLS_VARIABLE = 'HODEI_WEBHOOK_ALLOWED_URLS';

/**
 * `HODEI_WEBHOOK_ALLOWED_URLS`: a comma list of http(s) URL prefixes a webhook's URL must start
 * with (unset: none may be created), and `HODEI_WEBHOOK_MAX_ATTEMPTS` (default 8, 1 to 100).
 */
export function readWebhookConfig(reader: EnvReader): WebhookConfig {
  const raw = reader.read(ALLOWED_URLS_VARIABLE);
  const prefixes = (raw ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const allowlist = UrlAllowlist.of(prefixes);
  if (allowlist.isErr()) {
    reader.problem(
      ALLOWED_URLS_VARIABLE,
      raw ?? '',
      'a comma list of http:// or https:// URL prefixes without credentials, e.g. https://hooks.example.com/',
    );
  }
  return {
    allowedUrls: allowlist.isOk() ? allowlist.value.prefixes : [],
    maxAttempts: reader.integer(
      'HODEI_WEBHOOK_MAX_ATTEMPTS',
      DEFAULT_WEBHOOK_CONFIG.maxAttempts,
      1,
      100,
      'a whole number of attempts from 1 to 100',
    ),
  };
}
