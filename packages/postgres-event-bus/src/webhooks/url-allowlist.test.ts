import { describe, expect, it } from 'vitest';
import { UrlAllowlist } from './url-allowlist.js';

describe('the webhook URL allowlist', () => {
  const list = UrlAllowlist.of([
    'https://Hooks.Example.com',
    'http://127.0.0.1:9000/in/',
  ])._unsafeUnwrap();

  it('normalises its prefixes and allows URLs that start with one', () => {
    expect(list.prefixes).toEqual(['https://hooks.example.com/', 'http://127.0.0.1:9000/in/']);
    expect(list.check('https://HOOKS.example.com/a?b=1')._unsafeUnwrap()).toBe(
      'https://hooks.example.com/a?b=1',
    );
    expect(list.check('http://127.0.0.1:9000/in/x').isOk()).toBe(true);
  });

  it('refuses look-alike hosts, other ports and paths, other schemes and credentials', () => {
    const refused = (url: string) => list.check(url)._unsafeUnwrapErr().type;
    expect(refused('https://hooks.example.com.evil.test/')).toBe('WebhookUrlNotAllowed');
    expect(refused('https://hooks.example.com:8443/')).toBe('WebhookUrlNotAllowed');
    expect(refused('http://127.0.0.1:9000/other')).toBe('WebhookUrlNotAllowed');
    expect(refused('http://127.0.0.1:9000/in/../admin')).toBe('WebhookUrlNotAllowed');
    expect(refused('https://user:pw@hooks.example.com/')).toBe('InvalidWebhook');
    expect(refused('file:///etc/passwd')).toBe('InvalidWebhook');
    expect(refused('not a url')).toBe('InvalidWebhook');
  });

  it('allows nothing when empty, and refuses a prefix that is no http(s) URL', () => {
    const empty = UrlAllowlist.of([])._unsafeUnwrap();
    expect(empty.check('https://hooks.example.com/')._unsafeUnwrapErr().message).toMatch(
      /allowlist is empty/,
    );
    expect(UrlAllowlist.of(['ftp://x/']).isErr()).toBe(true);
  });

  it('matches a prefix without a trailing slash as that path or a path below it, never a longer segment', () => {
    const hooks = UrlAllowlist.of(['https://hooks.example.com/hooks'])._unsafeUnwrap();
    expect(hooks.check('https://hooks.example.com/hooks').isOk()).toBe(true);
    expect(hooks.check('https://hooks.example.com/hooks/a').isOk()).toBe(true);
    expect(hooks.check('https://hooks.example.com/hooks?x=1').isOk()).toBe(true);
    expect(hooks.check('https://hooks.example.com/hooksX')._unsafeUnwrapErr().type).toBe(
      'WebhookUrlNotAllowed',
    );
    expect(hooks.check('https://hooks.example.com/hooks.evil')._unsafeUnwrapErr().type).toBe(
      'WebhookUrlNotAllowed',
    );
    const origin = UrlAllowlist.of(['https://hooks.example.com'])._unsafeUnwrap();
    expect(origin.check('https://hooks.example.com/any/path').isOk()).toBe(true);
  });

  it('refuses encoded slashes, backslashes and dots in the path, naming the reason', () => {
    for (const url of [
      'http://127.0.0.1:9000/in/..%2Fadmin',
      'http://127.0.0.1:9000/in/%2e%2e/admin',
      'http://127.0.0.1:9000/in/a%5Cb',
      'http://127.0.0.1:9000/in/%2F',
    ]) {
      const refused = list.check(url)._unsafeUnwrapErr();
      expect(refused).toMatchObject({ type: 'InvalidWebhook', field: 'url' });
      expect(refused.message).toMatch(/encoded/);
    }
  });
});
