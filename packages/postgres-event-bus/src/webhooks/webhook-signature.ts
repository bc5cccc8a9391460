import { createHmac, randomBytes } from 'node:crypto';
import { err, ok, type Result } from 'neverthrow';
import { invalidWebhook, type InvalidWebhook } from './webhook.errors.js';

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A new Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export const generateSecret = (): string => PREFIX + randomBytes(32).toString('base64');

/** Accepts `whsec_<base64 of 24 to 64 bytes>`, the form receivers' libraries take. */
export function parseSecret(secret: string): Result<string, InvalidWebhook> {
  const body = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : '';
  const bytes = BASE64.test(body) && body.length % 4 === 0 ? Buffer.from(body, 'base64') : null;
  if (bytes === null || bytes.length < 24 || bytes.length > 64) {
    return err(
      invalidWebhook('secret', 'secret must be whsec_ followed by 24 to 64 bytes in base64'),
    );
  }
  return ok(secret);
}

/**
 * The `webhook-signature` header of the Standard Webhooks specification: `v1,` and the base64
 * HMAC-SHA256, keyed by the secret's bytes, of `<id>.<timestamp>.<body>`.
 */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}
