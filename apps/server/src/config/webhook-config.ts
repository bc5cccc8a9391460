import { UrlAllowlist } from '@hodei/postgres-event-bus';
import type { EnvReader } from './env-reader.js';

/** Webhooks (stored in PostgreSQL): where they may point, how often a delivery is tried. */
export interface WebhookConfig {
  /** HODEI_WEBHOOK_ALLOWED_URLS, normalised; empty: no webhook may be created. */
  readonly allowedUrls: readonly string[];
  /** Requests per event before it goes to the dead letters. */
  readonly maxAttempts: number;
  /** The most webhooks that may exist: each is a subscription every server process runs. */
  readonly maxWebhooks: number;
}

export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = {
  allowedUrls: [],
  maxAttempts: 8,
  maxWebhooks: 100,
};

export const ALLOWED_URLS_VARIABLE = 'HODEI_WEBHOOK_ALLOWED_URLS';
export const MAX_WEBHOOKS_VARIABLE = 'HODEI_WEBHOOK_MAX';

/**
 * `HODEI_WEBHOOK_ALLOWED_URLS`: a comma list of http(s) URL prefixes a webhook's URL must start
 * with (unset: none may be created), `HODEI_WEBHOOK_MAX_ATTEMPTS` (default 8, 1 to 100) and
 * `HODEI_WEBHOOK_MAX`, the most webhooks (default 100, 1 to 10 000).
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
    maxWebhooks: reader.integer(
      MAX_WEBHOOKS_VARIABLE,
      DEFAULT_WEBHOOK_CONFIG.maxWebhooks,
      1,
      10_000,
      'a whole number of webhooks from 1 to 10000',
    ),
  };
}
