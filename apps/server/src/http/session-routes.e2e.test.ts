import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRawConnection } from '../testing/raw-http.js';
import {
  eventually,
  startTestServer,
  TEST_TOKEN,
  type TestServer,
} from '../testing/test-server.js';

/**
 * Browser sessions over HTTP, on the simulated cluster: the token traded for an HttpOnly
 * cookie, the cookie opening every /v1 route (streams too), a change through it only with the
 * session's CSRF token and from this server's origin, sign-out and expiry, and the bound on
 * wrong tokens. Bearer requests stay as they were.
 */

interface SignedIn {
  readonly cookie: string;
  readonly csrfToken: string;
  readonly setCookie: string;
}

const signIn = async (url: string, token = TEST_TOKEN): Promise<Response> =>
  fetch(`${url}/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });

async function signedIn(url: string): Promise<SignedIn> {
  const r = await signIn(url);
  expect(r.status).toBe(201);
  const setCookie = r.headers.getSetCookie()[0] ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  const body = (await r.json()) as { csrfToken: string };
  return { cookie, csrfToken: body.csrfToken, setCookie };
}

/** A call made as the dashboard makes it: the cookie, no Authorization header. */
const withCookie = (
  url: string,
  path: string,
  s: Pick<SignedIn, 'cookie'>,
  init: RequestInit & { headers?: Record<string, string> } = {},
) => fetch(`${url}${path}`, { ...init, headers: { cookie: s.cookie, ...init.headers } });

const job = (id: string) => ({ id, mode: 'job', command: ['sleep', '3600'] });

/** Resolves once the server ends or cuts the streamed body of `r`. */
async function endOf(r: Response): Promise<void> {
  const reader = r.body?.getReader();
  if (reader === undefined) return;
  try {
    for (;;) if ((await reader.read()).done) return;
  } catch {
    // cut: ended all the same
  }
}

/** Reads the streamed body of `r` until its text so far matches `pattern`. */
async function readUntil(r: Response, pattern: RegExp): Promise<string> {
  const reader = r.body?.getReader();
  if (reader === undefined) throw new Error('no body');
  const decoder = new TextDecoder();
  let text = '';
  while (!pattern.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before ${String(pattern)}: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

describe('browser sessions', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });

  afterAll(async () => {
    const left = await t?.api('GET', '/v1/workers?limit=1000');
    for (const w of (left?.body?.items ?? []) as { id: string }[])
      await t.api('DELETE', `/v1/workers/${w.id}?wait=true`);
    await t?.stop();
  });

  it('signs in with the token: an HttpOnly, SameSite=Strict cookie on Path=/, never the token', async () => {
    const r = await signIn(t.url);
    expect(r.status).toBe(201);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const cookies = r.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const [pair = '', ...attributes] = (cookies[0] ?? '').split(';').map((a) => a.trim());
    const [name, value = ''] = pair.split('=');
    expect(name).toBe('hodei_session');
    expect(Buffer.from(value, 'base64url')).toHaveLength(32);
    expect(attributes.sort()).toEqual(['HttpOnly', 'Path=/', 'SameSite=Strict']);
    const text = await r.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['csrfToken', 'expiresAt']);
    expect(Date.parse(String(body['expiresAt'])) - Date.now()).toBeGreaterThan(11 * 3600 * 1000);
    expect(text).not.toContain(TEST_TOKEN);
    expect(cookies[0]).not.toContain(TEST_TOKEN);
  });

  it('keeps the session across a reload: GET /v1/session gives the same CSRF token', async () => {
    const s = await signedIn(t.url);
    const r = await withCookie(t.url, '/v1/session', s);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { csrfToken: string }).csrfToken).toBe(s.csrfToken);
    expect(await withCookie(t.url, '/v1/workers', s).then((x) => x.status)).toBe(200);
  });

  it('refuses a wrong token with 401 InvalidToken and sets no cookie', async () => {
    const r = await signIn(t.url, 'not-the-token-at-all');
    expect(r.status).toBe(401);
    expect(r.headers.getSetCookie()).toEqual([]);
    expect(await r.json()).toEqual({ error: 'InvalidToken', message: expect.any(String) });
    const none = await fetch(`${t.url}/v1/session`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({
      error: 'Unauthorized',
      message: 'no valid session cookie: sign in',
    });
    const forged = await withCookie(t.url, '/v1/session', { cookie: 'hodei_session=forged' });
    expect(forged.status).toBe(401);
  });

  it('signs out: the session is forgotten and its cookie cleared', async () => {
    const s = await signedIn(t.url);
    const r = await withCookie(t.url, '/v1/session', s, {
      method: 'DELETE',
      headers: { 'x-csrf-token': s.csrfToken },
    });
    expect(r.status).toBe(204);
    expect(r.headers.getSetCookie()[0]).toMatch(/^hodei_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await withCookie(t.url, '/v1/session', s)).status).toBe(401);
    expect((await withCookie(t.url, '/v1/workers', s)).status).toBe(401);
  });

  it('answers a sign-out without a valid session with 204, and clears the cookie', async () => {
    for (const headers of [{}, { cookie: 'hodei_session=forged' }] as Record<string, string>[]) {
      const r = await fetch(`${t.url}/v1/session`, { method: 'DELETE', headers });
      expect(r.status).toBe(204);
      expect(r.headers.getSetCookie()[0]).toMatch(/^hodei_session=;.*Expires=Thu, 01 Jan 1970/);
    }
  });

  it("ends a session's event stream and followed log at its sign-out, not another's", async () => {
    const s = await signedIn(t.url);
    const other = await signedIn(t.url);
    expect((await t.api('POST', '/v1/workers', { body: job('sse-out') })).status).toBe(201);
    const events = await withCookie(t.url, '/v1/events?workerId=sse-out', s);
    const logs = await withCookie(t.url, '/v1/workers/sse-out/logs?follow=true', s);
    const kept = await withCookie(t.url, '/v1/events?workerId=sse-after', other);
    for (const r of [events, logs, kept]) expect(r.status).toBe(200);
    const ended = Promise.all([endOf(events), endOf(logs)]);

    const out = await withCookie(t.url, '/v1/session', s, {
      method: 'DELETE',
      headers: { 'x-csrf-token': s.csrfToken },
    });
    expect(out.status).toBe(204);
    await ended;
    // The other session's stream is still open: it receives what happens next.
    expect((await t.api('POST', '/v1/workers', { body: job('sse-after') })).status).toBe(201);
    expect(await readUntil(kept, /"subject":"sse-after"/)).toMatch(/WorkerEphemeralCreated/);
  });

  it('asks the CSRF token and this origin of every change made with the cookie', async () => {
    const s = await signedIn(t.url);
    const create = (headers: Record<string, string>, id: string) =>
      withCookie(t.url, '/v1/workers', s, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(job(id)),
      });
    const missing = await create({}, 'csrf-none');
    expect(missing.status).toBe(403);
    expect(await missing.json()).toEqual({
      error: 'CsrfTokenMismatch',
      message: expect.any(String),
    });
    const wrong = await create({ 'x-csrf-token': 'x'.repeat(43) }, 'csrf-wrong');
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { error: string }).error).toBe('CsrfTokenMismatch');
    const foreign = await create(
      { 'x-csrf-token': s.csrfToken, origin: 'http://evil.example' },
      'csrf-foreign',
    );
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: string }).error).toBe('ForeignOrigin');
    // None of the refused ones was created.
    for (const id of ['csrf-none', 'csrf-wrong', 'csrf-foreign'])
      expect((await t.api('GET', `/v1/workers/${id}`)).status).toBe(404);

    const own = await create(
      { 'x-csrf-token': s.csrfToken, origin: new URL(t.url).origin },
      'csrf-ok',
    );
    expect(own.status).toBe(201);
    expect(((await own.json()) as { id: string }).id).toBe('csrf-ok');
    // The route's own answers come through too: a repeat is 200, a bad body 400.
    expect((await create({ 'x-csrf-token': s.csrfToken }, 'csrf-ok')).status).toBe(200);
    const invalid = await withCookie(t.url, '/v1/workers', s, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken },
      body: JSON.stringify({ mode: 'nope' }),
    });
    expect(invalid.status).toBe(400);
    // Reads need no CSRF token.
    expect((await withCookie(t.url, '/v1/workers/csrf-ok', s)).status).toBe(200);
  });

  it('leaves bearer requests as they were, a cookie or an Origin beside them', async () => {
    const s = await signedIn(t.url);
    const r = await t.api('POST', '/v1/workers', {
      body: job('bearer-1'),
      headers: { cookie: s.cookie, origin: 'http://evil.example' },
    });
    expect(r.status).toBe(201);
    const no = await t.api('GET', '/v1/workers', { token: 'wrong-token-0123456789' });
    expect(no.status).toBe(401);
    expect(no.headers.get('www-authenticate')).toBe('Bearer');
    expect(no.body).toEqual({ error: 'Unauthorized', message: expect.any(String) });
  });

  it('still closes the connection on a 401 without reading the body', async () => {
    const c = await openRawConnection(t.url);
    c.write(
      'POST /v1/workers HTTP/1.1\r\nHost: hodei\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    const r = await c.response();
    expect(r.status).toBe(401);
    expect(r.headers['connection']).toBe('close');
    await c.ended;
    c.close();
  });

  it('opens the event stream and a followed log with the cookie alone', async () => {
    const s = await signedIn(t.url);
    expect((await t.api('POST', '/v1/workers', { body: job('sse-1') })).status).toBe(201);
    const controller = new AbortController();
    const events = await withCookie(t.url, '/v1/events?workerId=sse-1', s, {
      signal: controller.signal,
    });
    expect(events.status).toBe(200);
    expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = events.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toMatch(/\S/);
    controller.abort();

    const logs = new AbortController();
    const followed = await withCookie(t.url, '/v1/workers/sse-1/logs?follow=true', s, {
      signal: logs.signal,
    });
    expect(followed.status).toBe(200);
    expect(followed.headers.get('content-type')).toMatch(/^text\/plain/);
    logs.abort();
  });
});

describe('session expiry and the bound on wrong tokens', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ HODEI_SESSION_TTL_SECONDS: '1' });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('ends a session at its TTL', async () => {
    const s = await signedIn(t.url);
    expect((await withCookie(t.url, '/v1/session', s)).status).toBe(200);
    const status = await eventually(
      async () => (await withCookie(t.url, '/v1/session', s)).status,
      (x) => x === 401,
      10_000,
    );
    expect(status).toBe(401);
    expect((await withCookie(t.url, '/v1/workers', s)).status).toBe(401);
  });

  it('ends the event stream of a session at its expiry', async () => {
    const s = await signedIn(t.url);
    const events = await withCookie(t.url, '/v1/events', s);
    expect(events.status).toBe(200);
    await endOf(events);
    expect((await withCookie(t.url, '/v1/session', s)).status).toBe(401);
  });

  it('refuses every sign-in from the address with 429 and Retry-After after 10 wrong tokens', async () => {
    for (let i = 0; i < 10; i++)
      expect((await signIn(t.url, `wrong-token-number-${i}`)).status).toBe(401);
    const limited = await signIn(t.url, 'wrong-token-again');
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.json()).toEqual({
      error: 'TooManyWrongTokens',
      message: expect.any(String),
    });
    // The right token is refused too, unchecked: else the 429 would tell a guesser which
    // try was right. The API's bearer tokens are not held back.
    expect((await signIn(t.url)).status).toBe(429);
    expect((await t.api('GET', '/v1/workers')).status).toBe(200);
  });
});

describe('wrong bearer tokens', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer();
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('get their 401 however many, and hold neither the right token nor the sign-in back', async () => {
    // One client with a stale token must not shut out the others on its host.
    for (let i = 0; i < 15; i++)
      expect((await t.api('GET', '/v1/workers', { token: `wrong-bearer-${i}` })).status).toBe(401);
    expect((await t.api('GET', '/v1/workers')).status).toBe(200);
    expect((await signIn(t.url)).status).toBe(201);
  });
});
