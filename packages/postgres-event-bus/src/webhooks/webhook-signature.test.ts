import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret, parseSecret, signature } from './webhook-signature.js';

describe('Standard Webhooks signatures', () => {
  it('signs as the standardwebhooks library does, and it verifies them', () => {
    const secret = generateSecret();
    const body = '{"id":"e-1"}';
    const at = new Date(Date.UTC(2025, 0, 1, 12));
    const timestamp = Math.floor(at.getTime() / 1000);
    const library = new Webhook(secret);
    expect(signature(secret, 'e-1', timestamp, body)).toBe(library.sign('e-1', at, body));
    const now = Math.floor(Date.now() / 1000);
    expect(() =>
      library.verify(body, {
        'webhook-id': 'e-1',
        'webhook-timestamp': String(now),
        'webhook-signature': signature(secret, 'e-1', now, body),
      }),
    ).not.toThrow();
  });

  it('generates whsec_ secrets of 32 bytes and accepts 24 to 64 bytes only', () => {
    const secret = generateSecret();
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(parseSecret(secret).isOk()).toBe(true);
    const of = (n: number) => `whsec_${Buffer.alloc(n, 1).toString('base64')}`;
    expect([23, 24, 64, 65].map((n) => parseSecret(of(n)).isOk())).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(parseSecret('c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0').isErr()).toBe(true);
    expect(parseSecret('whsec_not base64!').isErr()).toBe(true);
  });
});
