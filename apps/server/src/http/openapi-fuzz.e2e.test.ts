import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/server-process.js';
import { startTestServer, TEST_TOKEN, type TestServer } from '../testing/test-server.js';

/**
 * Every operation of `/openapi.json`, fed hostile path ids, query strings, bodies and headers:
 * NULs, lone surrogates, bad percent-encodings, huge numbers, deep nesting, reserved `hodei.` /
 * `HODEI_` names in any case. In-process on the simulated cluster (random images on Docker
 * would have the engine dial registries) with the PostgreSQL event store, which is where a NUL
 * used to surface as 503.
 */

interface Operation {
  readonly method: string;
  /** As in the document: `/v1/workers/{id}`. */
  readonly path: string;
  readonly pathParams: readonly string[];
  readonly queryParams: readonly string[];
  readonly hasBody: boolean;
  readonly documents503: boolean;
}

interface OpenApiOperation {
  readonly parameters?: readonly { readonly in: string; readonly name: string }[];
  readonly requestBody?: unknown;
  readonly responses?: Record<string, unknown>;
}

function operationsOf(doc: { paths: Record<string, Record<string, OpenApiOperation>> }) {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        hasBody: op.requestBody !== undefined || method === 'post',
        documents503: Object.keys(op.responses ?? {}).includes('503'),
      });
    }
  }
  return operations;
}

/** Percent-encodes every UTF-16 code unit; a lone surrogate as the 3 bytes a sloppy encoder writes. */
function encodePart(text: string): string {
  let out = '';
  for (const char of text) {
    const unit = char.charCodeAt(0);
    if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

const RESERVED = ['hodei.', 'HODEI_', 'HoDeI.', 'hOdEi_', 'Hodei.managed', 'HODEI_WORKER_ID'];

/** What breaks a backend most often: one bad character in an otherwise valid value. */
const DEFECTS = ['\u0000', '\uD800', '\uDFFF', 'a'.repeat(60), 'a'.repeat(101)];

const defect = fc.oneof(
  fc.constantFrom(...DEFECTS),
  fc.constantFrom(' ', '\r\n', 'é', '\uD83D\uDE00', '../', 'A', '-', ...RESERVED),
);

const withDefect = (base: fc.Arbitrary<string>) =>
  fc.tuple(base, defect, fc.nat()).map(([text, bad, i]) => {
    // Anywhere, also between the halves of a surrogate pair.
    const at = i % (text.length + 1);
    return `${text.slice(0, at)}${bad}${text.slice(at)}`;
  });

const mixedText = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          '\u0000',
          '\uD800',
          '\uDFFF',
          '\uDE00\uD83D',
          '\uD83D\uDE00',
          '../',
          '%',
          '%FF',
          '\r\n',
          ' ',
          'é',
          ...RESERVED,
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom('a'.repeat(51), 'a'.repeat(101), 'x'.repeat(3000)) },
      { weight: 1, arbitrary: fc.bigInt().map(String) },
    ),
    { maxLength: 5 },
  )
  .map((parts) => parts.join(''));

const hostileText = fc.oneof(
  mixedText,
  withDefect(fc.constantFrom('fuzz-agent', 'ghost', 'value', 'sh', 'PATH', 'team', '')),
);

/** Sent as they are in a URL, never encoded. */
const rawUrlFragment = fc.constantFrom('%FF', '%C0%AF', '%ED%A0%80', '%00', '%', '%zz', '%2e%2e');

const urlPart = fc
  .array(fc.oneof({ weight: 4, arbitrary: hostileText.map(encodePart) }, rawUrlFragment), {
    minLength: 1,
    maxLength: 3,
  })
  .map((parts) => parts.join(''));

const ids = (seeded: readonly string[]) =>
  fc.oneof(
    fc.constantFrom(...seeded, 'ghost', 'a'.repeat(50)),
    withDefect(fc.constantFrom(...seeded, 'ghost')).map(encodePart),
    urlPart,
  );

const queryValue = fc.oneof(
  fc.constantFrom('true', 'false', '10', '0', '1000', '1001', 'ready', 'agent', 'all', ''),
  urlPart,
);

/** Numbers JSON can carry but JavaScript cannot, spliced into the text by marker. */
const HUGE = {
  '"@huge"': '1e400',
  '"@long"': '123456789012345678901234567890',
  '"@neg"': '-1e400',
};

const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 2 ** 53 + 1, 1e308, -1e308, '@huge', '@long', '@neg'),
);

const name = fc.oneof(fc.constantFrom('PATH', 'A', 'team', ...RESERVED), hostileText);

const createBody = fc.record(
  {
    id: fc.oneof(fc.constantFrom('fuzz-a', 'fuzz-b'), hostileText),
    providerId: fc.oneof(fc.constant('k8s-stub'), hostileText),
    mode: fc.oneof(fc.constantFrom('job', 'agent'), hostileText),
    readiness: fc.oneof(fc.constantFrom('container', 'external'), hostileText),
    image: fc.oneof(fc.constant('busybox:1'), hostileText),
    command: fc.array(hostileText, { maxLength: 4 }),
    env: fc.dictionary(name, hostileText, { maxKeys: 4 }),
    labels: fc.dictionary(name, hostileText, { maxKeys: 4 }),
    resources: fc.record({ memoryMb: number, cpus: number }, { requiredKeys: [] }),
    policy: fc.dictionary(
      fc.constantFrom(
        'maxLifetimeSeconds',
        'ttlAfterCompletionSeconds',
        'idleTimeoutSeconds',
        'gracefulTerminationTimeoutSeconds',
        'startupTimeoutSeconds',
        'HODEI_X',
      ),
      number,
      { maxKeys: 5 },
    ),
  },
  { requiredKeys: [] },
);

const deepNesting = fc
  .tuple(
    fc.constantFrom('command', 'env', 'labels', 'policy', 'x'),
    fc.integer({ min: 1, max: 30_000 }),
  )
  .map(([field, depth]) => `{"${field}":${'['.repeat(depth)}${']'.repeat(depth)}}`);

const bodyText = fc
  .oneof(
    { weight: 4, arbitrary: createBody.map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: deepNesting },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string() },
  )
  .map((text) =>
    Object.entries(HUGE).reduce((t, [marker, raw]) => t.replaceAll(marker, raw), text),
  );

const printable = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);

const headers = fc.record(
  {
    authorization: fc.constantFrom(
      `Bearer ${TEST_TOKEN}`,
      `bearer ${TEST_TOKEN}`,
      `BEARER  ${TEST_TOKEN}`,
      'Bearer wrong-token-0123456789',
      'Basic eDp5',
    ),
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'application/json; charset=latin1',
    ),
    'content-encoding': fc.constantFrom('gzip', 'identity', 'br'),
    'x-correlation-id': printable,
    'last-event-id': fc.oneof(printable, fc.uuid()),
  },
  { requiredKeys: ['authorization'] },
);

interface FuzzRequest {
  readonly url: string;
  readonly init: RequestInit;
  readonly op: Operation;
}

/** What is drawn for one request: path values and query already URL-encoded. */
interface Draw {
  readonly params: readonly string[];
  readonly query: readonly (readonly [string, string])[];
  readonly body: string | undefined;
  readonly headers: Record<string, string>;
}

function requestOf(op: Operation, draw: Draw): FuzzRequest {
  let path = op.path;
  op.pathParams.forEach((p, i) => {
    path = path.replace(`{${p}}`, draw.params[i] ?? '');
  });
  const search = draw.query.map(([k, v]) => `${k}=${v}`).join('&');
  return {
    op,
    url: `${path}${search === '' ? '' : `?${search}`}`,
    init: {
      method: op.method,
      headers: draw.headers,
      ...(draw.body === undefined ? {} : { body: draw.body }),
    },
  };
}

const requestsFor = (op: Operation, seeded: readonly string[]): fc.Arbitrary<FuzzRequest> =>
  fc
    .record({
      params: fc.tuple(...op.pathParams.map(() => ids(seeded))),
      query: fc.array(
        fc.tuple(fc.oneof(fc.constantFrom(...op.queryParams, 'x'), urlPart), queryValue),
        { maxLength: 3 },
      ),
      body: op.hasBody ? fc.option(bodyText, { nil: undefined }) : fc.constant(undefined),
      headers,
    })
    .map((draw) => requestOf(op, draw));

/** Run first on every operation: each defect in a known id, every query value and the body. */
const examplesFor = (op: Operation, seeded: readonly string[]): [FuzzRequest][] =>
  DEFECTS.map((bad) => {
    const known = seeded[0] ?? 'ghost';
    const value = `${known.slice(0, 3)}${bad}${known.slice(3)}`;
    return [
      requestOf(op, {
        params: op.pathParams.map(() => encodePart(value)),
        query: op.queryParams.map((q) => [q, encodePart(value)] as const),
        body: op.hasBody
          ? JSON.stringify({
              mode: 'agent',
              command: [value],
              env: { A: value },
              labels: { team: value },
            })
          : undefined,
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      }),
    ];
  });

describe('the HTTP API under a fuzzer of every operation it documents', () => {
  let t: TestServer;
  let db: TestDatabase;
  const seeded = ['fuzz-agent', 'fuzz-job'];

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestServer({
      DATABASE_URL: db.url,
      HODEI_EVENT_PUBLISHER: 'postgres,logger',
      HODEI_MAX_WORKERS: '20',
    });
    for (const [id, mode] of [
      ['fuzz-agent', 'agent'],
      ['fuzz-job', 'job'],
    ] as const) {
      const created = await t.api('POST', '/v1/workers', {
        body: { id, mode, command: ['sleep', '3600'] },
      });
      expect(created.status).toBe(201);
    }
  });

  afterAll(async () => {
    const left = await t?.api('GET', '/v1/workers?limit=1000');
    for (const w of (left?.body?.items ?? []) as { id: string }[]) {
      await t.api('DELETE', `/v1/workers/${w.id}?wait=true`);
    }
    await t?.stop();
    await db?.drop();
  });

  it('answers no 5xx but a documented 503 while not ready, every error in the envelope', async () => {
    const doc = await t.api('GET', '/openapi.json', { token: null });
    const operations = operationsOf(doc.body);
    expect(operations.length).toBeGreaterThanOrEqual(10);

    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(requestsFor(op, seeded), async (request) => {
          const what = `${request.init.method} ${request.url}`;
          const response = await fetch(`${t.url}${request.url}`, request.init);
          const type = response.headers.get('content-type') ?? '';
          // Streams (SSE, followed logs) are cut once they answer.
          const text = type.includes('application/json') ? await response.text() : '';
          if (text === '') await response.body?.cancel();

          if (response.status >= 500) {
            expect(response.status, what).toBe(503);
            expect(op.documents503, what).toBe(true);
            const ready = await t.api('GET', '/readyz');
            expect(ready.status, `${what} answered 503 while the server is ready`).toBe(503);
          }
          if (response.status >= 400 && request.op.path !== '/readyz') {
            const body = JSON.parse(text) as Record<string, unknown>;
            expect(
              Object.keys(body).filter((k) => !['error', 'message', 'problems'].includes(k)),
              what,
            ).toEqual([]);
            expect(typeof body['error'], what).toBe('string');
            expect(typeof body['message'], what).toBe('string');
          }
        }),
        { numRuns: 25, examples: examplesFor(op, seeded) },
      );
    }

    expect((await t.api('GET', '/healthz', { token: null })).status).toBe(200);
    expect((await t.api('GET', '/readyz')).status).toBe(200);
    expect((await t.api('GET', '/v1/workers')).status).toBe(200);
  });
});
