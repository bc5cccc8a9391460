import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRawConnection, rawRequest, type RawResponse } from '../testing/raw-http.js';
import { createTestDatabase, type TestDatabase } from '../testing/server-process.js';
import { startTestServer, TEST_TOKEN, type TestServer } from '../testing/test-server.js';

/**
 * What slow, careless and hostile clients get: bounded time and connections, and the error
 * envelope for whatever the HTTP layer refuses. In-process, on the simulated cluster.
 */

const AUTH = `Authorization: Bearer ${TEST_TOKEN}\r\n`;

const get = (path: string, headers = AUTH): string =>
  `GET ${path} HTTP/1.1\r\nHost: hodei\r\n${headers}Connection: close\r\n\r\n`;

const post = (path: string, body: string, headers = AUTH): string =>
  `POST ${path} HTTP/1.1\r\nHost: hodei\r\n${headers}Content-Type: application/json\r\n` +
  `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;

/** The documented envelope and nothing else, under the expected status. */
function expectEnvelope(r: RawResponse, status: number, error: string): void {
  expect(r.status).toBe(status);
  const body = JSON.parse(r.body) as Record<string, unknown>;
  expect(body).toEqual({
    error,
    message: expect.any(String),
    ...(body['problems'] === undefined ? {} : { problems: expect.any(Array) }),
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the HTTP server under slow and idle clients', () => {
  const servers: TestServer[] = [];
  const start = async (env: Record<string, string>) => {
    const t = await startTestServer(env);
    servers.push(t);
    return t;
  };

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((t) => t.stop()));
  });

  it('cuts a body that trickles in past HODEI_HTTP_REQUEST_TIMEOUT_SECONDS with 408 and closes', async () => {
    const t = await start({
      HODEI_HTTP_HEADERS_TIMEOUT_SECONDS: '1',
      HODEI_HTTP_REQUEST_TIMEOUT_SECONDS: '1',
    });
    const c = await openRawConnection(t.url);
    c.write(
      `POST /v1/workers HTTP/1.1\r\nHost: hodei\r\n${AUTH}Content-Type: application/json\r\nContent-Length: 10000\r\n\r\n`,
    );
    // One byte at a time, never idle long: only a limit on the whole request cuts it.
    let cut = false;
    void c.ended.then(() => {
      cut = true;
    });
    while (!cut) {
      c.write(' ');
      await pause(50);
    }
    expectEnvelope(await c.response(), 408, 'RequestTimeout');
  });

  it('cuts a request whose headers never end with 408', async () => {
    const t = await start({ HODEI_HTTP_HEADERS_TIMEOUT_SECONDS: '1' });
    const c = await openRawConnection(t.url);
    c.write(`GET /healthz HTTP/1.1\r\nHost: hodei\r\n`);
    await c.ended;
    expectEnvelope(await c.response(), 408, 'RequestTimeout');
  });

  it('answers 401 without reading the body and closes the connection', async () => {
    // Limits far past the test's timeout: only the 401 itself can end the connection.
    const t = await start({
      HODEI_HTTP_HEADERS_TIMEOUT_SECONDS: '3600',
      HODEI_HTTP_REQUEST_TIMEOUT_SECONDS: '3600',
      HODEI_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '3600',
    });
    const c = await openRawConnection(t.url);
    c.write(
      'POST /v1/workers HTTP/1.1\r\nHost: hodei\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{',
    );
    const r = await c.response();
    expectEnvelope(r, 401, 'Unauthorized');
    expect(r.headers['connection']).toBe('close');
    await c.ended;
  });

  it('closes an idle connection after HODEI_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', async () => {
    const t = await start({ HODEI_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '1' });
    const c = await openRawConnection(t.url);
    c.write('GET /healthz HTTP/1.1\r\nHost: hodei\r\n\r\n');
    expect((await c.response()).status).toBe(200);
    await c.ended;
  });

  it('closes connections past HODEI_HTTP_MAX_CONNECTIONS and accepts again when one ends', async () => {
    const t = await start({
      HODEI_HTTP_MAX_CONNECTIONS: '2',
      HODEI_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '3600',
    });
    // Two kept open, each known to the server by the answer it got.
    const held = await Promise.all([openRawConnection(t.url), openRawConnection(t.url)]);
    for (const c of held) {
      c.write('GET /healthz HTTP/1.1\r\nHost: hodei\r\n\r\n');
      expect((await c.response()).status).toBe(200);
    }
    const third = await openRawConnection(t.url);
    third.write('GET /healthz HTTP/1.1\r\nHost: hodei\r\n\r\n');
    await third.ended;
    expect(third.received()).toBe('');

    held[0]?.close();
    await held[0]?.ended;
    // The server counts the close once it sees it; retry until a connection is served.
    let served: RawResponse | undefined;
    while (served === undefined) {
      served = await rawRequest(t.url, get('/healthz', '')).catch(() => undefined);
    }
    expect(served.status).toBe(200);
    held[1]?.close();
  });
});

describe('the error envelope for what the HTTP layer refuses', () => {
  let t: TestServer;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestServer({
      DATABASE_URL: db.url,
      HODEI_EVENT_PUBLISHER: 'postgres,logger',
      HODEI_MAX_WORKERS: '1',
    });
  });

  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it.each([
    ['%FF', '/v1/workers/%FF'],
    ['an overlong encoding', '/v1/workers/%C0%AF'],
    ['an encoded lone surrogate', '/v1/workers/%ED%A0%80'],
  ])('answers 400 InvalidUrl for a path with %s', async (_what, path) => {
    expectEnvelope(await rawRequest(t.url, get(path)), 400, 'InvalidUrl');
  });

  it('answers 400 naming params.id for an id that is not one, on every route', async () => {
    for (const [method, path] of [
      ['GET', '/v1/workers/a%00b'],
      ['DELETE', '/v1/workers/a%00b'],
      ['GET', '/v1/workers/a%00b/events'],
      ['GET', '/v1/workers/UPPER/logs'],
      ['POST', `/v1/workers/${'a'.repeat(60)}/ready`],
      ['POST', '/v1/workers/-x-/busy'],
    ] as const) {
      const r = await rawRequest(
        t.url,
        `${method} ${path} HTTP/1.1\r\nHost: hodei\r\n${AUTH}Connection: close\r\n\r\n`,
      );
      expectEnvelope(r, 400, 'ValidationFailed');
      const problems = (JSON.parse(r.body) as { problems: { path: string }[] }).problems;
      expect(problems.map((p) => p.path)).toContain('params.id');
    }
  });

  it('answers 414 for a path segment over the limit and for a URL too long', async () => {
    expectEnvelope(
      await rawRequest(t.url, get(`/v1/workers/${'a'.repeat(101)}`)),
      414,
      'UriTooLong',
    );
    expectEnvelope(
      await rawRequest(t.url, get(`/v1/workers?cursor=${'a'.repeat(20_000)}`)),
      414,
      'UriTooLong',
    );
  });

  it('answers 431 for headers too large', async () => {
    const r = await rawRequest(t.url, get('/healthz', `X-Big: ${'a'.repeat(20_000)}\r\n`));
    expectEnvelope(r, 431, 'HeadersTooLarge');
  });

  it.each([
    ['a request line that is not one', 'GARBAGE\r\n\r\n'],
    ['an unknown method', 'BREW /healthz HTTP/1.1\r\nHost: hodei\r\n\r\n'],
    ['a header name with a space', 'GET /healthz HTTP/1.1\r\nHost: hodei\r\nBad Name: x\r\n\r\n'],
    ['no Host header', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'],
  ])('answers 400 MalformedRequest for %s', async (_what, text) => {
    expectEnvelope(await rawRequest(t.url, text), 400, 'MalformedRequest');
  });

  it('answers 404 in the envelope for an unknown route', async () => {
    expectEnvelope(await rawRequest(t.url, get('/v1/nowhere')), 404, 'NotFound');
  });

  it.each(['bearer', 'BEARER', 'BeArEr'])('accepts the bearer scheme spelled %s', async (s) => {
    const r = await t.api('GET', '/v1/workers', {
      token: null,
      headers: { authorization: `${s} ${TEST_TOKEN}` },
    });
    expect(r.status).toBe(200);
  });

  it.each(['gzip', 'deflate', 'br', 'x-anything'])(
    'answers 415 for a body with Content-Encoding %s',
    async (encoding) => {
      const r = await rawRequest(
        t.url,
        post('/v1/workers', '{}', `${AUTH}Content-Encoding: ${encoding}\r\n`),
      );
      expectEnvelope(r, 415, 'UnsupportedMediaType');
      expect(JSON.parse(r.body).message).toContain(encoding);
    },
  );

  it('answers 400 naming the field for a NUL or a lone surrogate in a body', async () => {
    for (const [body, path] of [
      ['{"env":{"A":"x\\u0000y"}}', 'body.env.A'],
      ['{"command":["sh","\\ud800"]}', 'body.command.1'],
      ['{"labels":{"team":"\\udfff"}}', 'body.labels.team'],
    ] as const) {
      const r = await rawRequest(t.url, post('/v1/workers', body));
      expectEnvelope(r, 400, 'ValidationFailed');
      expect(JSON.parse(r.body).problems).toContainEqual({ path, message: expect.any(String) });
    }
  });

  it('answers 400 naming the parameter for a NUL in a query string', async () => {
    const r = await rawRequest(t.url, get('/v1/workers?cursor=a%00b'));
    expectEnvelope(r, 400, 'ValidationFailed');
    expect(JSON.parse(r.body).problems[0].path).toBe('query.cursor');
  });

  it('answers 429 with Retry-After above HODEI_MAX_WORKERS', async () => {
    const body = { mode: 'agent', command: ['sleep', '3600'] };
    expect((await t.api('POST', '/v1/workers', { body: { ...body, id: 'first' } })).status).toBe(
      201,
    );
    const over = await t.api('POST', '/v1/workers', { body: { ...body, id: 'second' } });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    await t.api('DELETE', '/v1/workers/first?wait=true');
  });

  it('shows the readiness details only with the token', async () => {
    const anonymous = await t.api('GET', '/readyz', { token: null });
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({
      status: 'ready',
      checks: { 'provider:k8s-stub': { ok: true }, database: { ok: true } },
    });
    const wrong = await t.api('GET', '/readyz', { token: 'not-the-token-at-all' });
    expect(wrong.body).toEqual(anonymous.body);
    const detailed = await t.api('GET', '/readyz');
    expect(detailed.body.checks['provider:k8s-stub'].detail).toEqual(expect.any(String));
    expect(detailed.body.checks['database'].detail).toEqual(expect.any(String));
  });
});
