import { err, ok, type Result } from 'neverthrow';
import {
  invalidWebhook,
  type InvalidWebhook,
  type WebhookUrlNotAllowed,
} from './webhook.errors.js';

/**
 * The operator's list of URL prefixes a webhook may target, so that nobody with API access can
 * make the server POST to arbitrary internal addresses. A URL is allowed when its normalised
 * form (`new URL(...).href`) starts with a normalised prefix ending in `/`, or, for a prefix
 * whose path does not end in `/` (`…/hooks`), is that path or a path below it (`…/hooks/x`,
 * never `…/hooksX`). Only http and https, never credentials, and never an encoded `/`, `\` or
 * `.` (`%2f`, `%5c`, `%2e`) in the path, which a receiver may decode into another path than
 * the one checked. Empty: no webhook may be created.
 */
export class UrlAllowlist {
  private constructor(readonly prefixes: readonly string[]) {}

  /** Fails on a prefix that is no absolute http(s) URL. */
  static of(prefixes: readonly string[]): Result<UrlAllowlist, InvalidWebhook> {
    const normalised: string[] = [];
    for (const prefix of prefixes) {
      const url = parseHttpUrl(prefix);
      if (url.isErr()) return err(invalidWebhook('url', `allowlist entry ${prefix}: ${url.error}`));
      normalised.push(url.value.href);
    }
    return ok(new UrlAllowlist(normalised));
  }

  /** The normalised URL when it may be targeted. */
  check(target: string): Result<string, InvalidWebhook | WebhookUrlNotAllowed> {
    const url = parseHttpUrl(target);
    if (url.isErr()) return err(invalidWebhook('url', `url ${url.error}`));
    const href = url.value.href;
    if (!this.prefixes.some((prefix) => matches(href, prefix))) {
      return err({
        type: 'WebhookUrlNotAllowed',
        url: href,
        allowed: this.prefixes,
        message:
          this.prefixes.length === 0
            ? `url ${href} is not allowed: the webhook allowlist is empty`
            : `url ${href} starts with none of the allowed prefixes ${this.prefixes.join(', ')}`,
      });
    }
    return ok(href);
  }
}

/** A prefix ending in `/` matches as a string; any other one as a whole last path segment. */
function matches(href: string, prefix: string): boolean {
  if (prefix.endsWith('/')) return href.startsWith(prefix);
  return href === prefix || ['/', '?', '#'].some((next) => href.startsWith(prefix + next));
}

const ENCODED_SEPARATOR = /%(2f|5c|2e)/i;

function parseHttpUrl(text: string): Result<URL, string> {
  // Checked on the text as sent: the URL parser already resolves some of them (`%2e%2e`).
  const beforeQuery = text.split(/[?#]/, 1)[0] ?? '';
  if (ENCODED_SEPARATOR.test(beforeQuery)) {
    return err('must not carry an encoded /, \\ or . (%2f, %5c, %2e) in its path');
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return err('must be an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return err('must be http or https');
  if (url.username !== '' || url.password !== '') return err('must not carry credentials');
  return ok(url);
}
