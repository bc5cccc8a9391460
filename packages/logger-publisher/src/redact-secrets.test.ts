import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecrets } from './redact-secrets.js';
import { serializeErrors } from './serialize-errors.js';

describe('redactSecrets', () => {
  it('replaces values of keys containing token, password or secret in any case', () => {
    expect(
      redactSecrets({
        token: 'a',
        GITHUB_TOKEN: 'b',
        password: 'c',
        dbPassword: 'd',
        SECRET: 'e',
        clientSecretValue: 'f',
        image: 'hodei/worker:0.1.0',
      }),
    ).toEqual({
      token: REDACTED,
      GITHUB_TOKEN: REDACTED,
      password: REDACTED,
      dbPassword: REDACTED,
      SECRET: REDACTED,
      clientSecretValue: REDACTED,
      image: 'hodei/worker:0.1.0',
    });
  });

  it('reaches into nested objects and arrays', () => {
    expect(redactSecrets({ a: { b: [{ c: { Password: 1 } }, [{ tokenId: null }]] } })).toEqual({
      a: { b: [{ c: { Password: REDACTED } }, [{ tokenId: REDACTED }]] },
    });
  });

  it('redacts a whole subtree under a secret-looking key', () => {
    expect(redactSecrets({ secrets: { a: 1, b: [2] } })).toEqual({ secrets: REDACTED });
  });

  it('returns the very input when nothing matched, and never mutates it', () => {
    const clean = { a: { b: [1, 'two'] }, mode: 'job' };
    expect(redactSecrets(clean)).toBe(clean);
    const dirty = { a: { token: 'x' }, b: { c: 1 } };
    const copy = redactSecrets(dirty) as typeof dirty;
    expect(dirty.a.token).toBe('x');
    expect(copy.b).toBe(dirty.b);
  });

  it('leaves primitives, class instances and secret-looking values under innocent keys alone', () => {
    const when = new Date(0);
    expect(redactSecrets('password')).toBe('password');
    expect(redactSecrets(42)).toBe(42);
    expect(redactSecrets({ when, note: 'token=abc' })).toEqual({ when, note: 'token=abc' });
  });

  it('cuts a cycle instead of following it', () => {
    const looped: Record<string, unknown> = { token: 't' };
    looped['self'] = looped;
    expect(redactSecrets(looped)).toEqual({ token: REDACTED, self: '[Circular]' });
  });

  it('behaves the same with a global pattern across keys', () => {
    expect(redactSecrets({ aToken: 1, bToken: 2 }, /token/gi)).toEqual({
      aToken: REDACTED,
      bToken: REDACTED,
    });
  });

  it('redacts authorization, auth, cookies, tickets, credentials and registry auth', () => {
    expect(
      redactSecrets({
        headers: { Authorization: 'Bearer x', Cookie: 'c=1', 'set-cookie': ['c=2'] },
        auth: { username: 'u' },
        registryAuth: 'r',
        authconfig: 'a',
        ticket: 't',
        credentials: 'k',
        credential: 'k',
        apiKey: 'z',
        image: 'hodei/worker:0.1.0',
      }),
    ).toEqual({
      headers: { Authorization: REDACTED, Cookie: REDACTED, 'set-cookie': REDACTED },
      auth: REDACTED,
      registryAuth: REDACTED,
      authconfig: REDACTED,
      ticket: REDACTED,
      credentials: REDACTED,
      credential: REDACTED,
      apiKey: REDACTED,
      image: 'hodei/worker:0.1.0',
    });
  });

  it('reaches inside errors as serializeErrors returns them, keeping what pino writes', () => {
    const cause = Object.assign(new Error('registry refused'), {
      statusCode: 401,
      config: { headers: { Authorization: 'Bearer hunter2' } },
    });
    const failure = Object.assign(new Error('pull failed', { cause }), { registryAuth: 'xyz' });
    const serialized = serializeErrors({ error: failure });
    const redacted = redactSecrets(serialized);
    const text = JSON.stringify(redacted);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('xyz');
    expect(JSON.parse(text)).toMatchObject({
      error: {
        type: 'Error',
        message: expect.stringContaining('pull failed'),
        stack: expect.any(String),
      },
    });
    expect(JSON.stringify(serialized)).toContain('xyz');
  });

  it('reaches inside an error itself, and returns it untouched when it holds no secret', () => {
    const clean = Object.assign(new Error('boom'), { code: 'E1' });
    expect(redactSecrets({ clean })).toEqual({ clean });
    const dirty = Object.assign(new Error('boom'), { password: 'p4ss' });
    const text = JSON.stringify(redactSecrets({ dirty }));
    expect(text).not.toContain('p4ss');
    expect(JSON.parse(text)).toMatchObject({ dirty: { message: 'boom', password: REDACTED } });
  });
});
