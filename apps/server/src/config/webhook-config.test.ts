import { describe, expect, it } from 'vitest';
import { EnvReader } from './env-reader.js';
import { readWebhookConfig } from './webhook-config.js';

const read = (env: Record<string, string>) => {
  const reader = new EnvReader(env);
  return { config: readWebhookConfig(reader), problems: reader.problems };
};

describe('the webhook configuration', () => {
  it('allows no target, tries 8 times and takes 100 webhooks by default', () => {
    expect(read({})).toEqual({
      config: { allowedUrls: [], maxAttempts: 8, maxWebhooks: 100 },
      problems: [],
    });
  });

  it('reads the allowlist as normalised prefixes and the attempts', () => {
    expect(
      read({
        HODEI_WEBHOOK_ALLOWED_URLS: ' https://Hooks.Example.com , http://127.0.0.1:9000/in',
        HODEI_WEBHOOK_MAX_ATTEMPTS: '3',
        HODEI_WEBHOOK_MAX: '5',
      }).config,
    ).toEqual({
      allowedUrls: ['https://hooks.example.com/', 'http://127.0.0.1:9000/in'],
      maxAttempts: 3,
      maxWebhooks: 5,
    });
  });

  it('names a prefix that is no http(s) URL and an attempt count out of range', () => {
    const { problems } = read({
      HODEI_WEBHOOK_ALLOWED_URLS: 'https://ok.example/,ftp://files.example/',
      HODEI_WEBHOOK_MAX_ATTEMPTS: '0',
      HODEI_WEBHOOK_MAX: '0',
    });
    expect(problems.map((p) => p.variable)).toEqual([
      'HODEI_WEBHOOK_ALLOWED_URLS',
      'HODEI_WEBHOOK_MAX_ATTEMPTS',
      'HODEI_WEBHOOK_MAX',
    ]);
  });
});
