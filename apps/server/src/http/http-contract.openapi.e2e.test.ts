import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRawConnection } from '../testing/raw-http.js';
import { createTestDatabase, type TestDatabase } from '../testing/server-process.js';
import {
  eventually,
  startTestServer,
  TEST_TOKEN,
  type TestServer,
} from '../testing/test-server.js';

/**
 * Every route's real answers against `/openapi.json`: each status, media type, JSON body and
 * response header must be what the operation documents. Probes derived from the document run
 * on every operation, so a route added later is held to it too (no token, no Host, an unknown
 * query value, an id too long or malformed or unknown, a bad or big or compressed body); then
 * scenarios provoke the rest on the simulated cluster, and a server whose Docker Engine cannot
 * be reached gives the 503s.
 */

type Json = Record<string, unknown>;

const DOC_ID = 'https://hodei.test/openapi.json';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

interface Observed {
  readonly method: string;
  /** As in the document: `/v1/workers/{id}`. */
  readonly template: string;
  readonly status: number;
  readonly contentType: string;
  /** Undefined for a stream, read no further than its headers. */
  readonly body: string | undefined;
  readonly headers: Headers;
}

const mediaOf = (type: string) => {
  const [essence = '', ...params] = type.split(';').map((p) => p.trim().toLowerCase());
  return { essence, params: params.filter((p) => p !== '') };
};

/** A documented media range matches an answer with the same type and at least its parameters. */
const mediaMatches = (documented: string, actual: string) => {
  const d = mediaOf(documented);
  const a = mediaOf(actual);
  return d.essence === a.essence && d.params.every((p) => a.params.includes(p));
};

/** The document's schemas compiled by Ajv's JSON Schema 2020-12, strict: OpenAPI 3.1's dialect. */
class Contract {
  readonly doc: Json;
  readonly #ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  readonly #compiled = new Map<object, ValidateFunction>();

  constructor(served: Json) {
    formats.default(this.#ajv);
    // The Schema Object keywords OpenAPI 3.1 adds to the dialect.
    this.#ajv.addVocabulary(['discriminator', 'xml', 'externalDocs', 'example']);
    const text = JSON.stringify(served).replaceAll('"#/components/schemas/', `"${DOC_ID}#/$defs/`);
    this.doc = JSON.parse(text) as Json;
    const components = this.doc['components'] as Json;
    this.#ajv.addSchema({ $id: DOC_ID, $defs: components['schemas'] });
  }

  validator(schema: object): ValidateFunction {
    let v = this.#compiled.get(schema);
    if (v === undefined) {
      v = this.#ajv.compile(schema);
      this.#compiled.set(schema, v);
    }
    return v;
  }

  /** Every Schema Object of the document, with where it is. */
  *schemas(): Generator<[string, object]> {
    const components = this.doc['components'] as Record<string, Json>;
    for (const name of Object.keys(components['schemas'] ?? {}))
      yield [`schemas/${name}`, { $ref: `${DOC_ID}#/$defs/${name}` }];
    for (const [name, p] of Object.entries(components['parameters'] ?? {}))
      yield [`parameters/${name}`, (p as Json)['schema'] as object];
    for (const [name, h] of Object.entries(components['headers'] ?? {}))
      yield [`headers/${name}`, (h as Json)['schema'] as object];
    for (const [where, op] of this.operations()) {
      for (const p of (op['parameters'] ?? []) as Json[])
        if (p['schema'] !== undefined)
          yield [`${where} ${String(p['name'])}`, p['schema'] as object];
      const media = [
        ...Object.entries(((op['requestBody'] as Json | undefined)?.['content'] ?? {}) as Json),
        ...Object.values(op['responses'] as Record<string, Json>).flatMap((r) => [
          ...Object.entries((r['content'] ?? {}) as Json),
          ...Object.entries((r['headers'] ?? {}) as Json),
        ]),
      ];
      for (const [name, m] of media) {
        const schema = (m as Json)['schema'];
        if (schema !== undefined) yield [`${where} ${name}`, schema as object];
      }
    }
  }

  *operations(): Generator<[string, Json]> {
    for (const [path, item] of Object.entries(this.doc['paths'] as Record<string, Json>))
      for (const method of METHODS)
        if (item[method] !== undefined)
          yield [`${method.toUpperCase()} ${path}`, item[method] as Json];
  }

  operation(method: string, template: string): Json | undefined {
    return ((this.doc['paths'] as Record<string, Json>)[template]?.[method.toLowerCase()] ??
      undefined) as Json | undefined;
  }

  #header(header: Json): Json {
    const ref = header['$ref'];
    if (typeof ref !== 'string') return header;
    const name = ref.replace('#/components/headers/', '');
    return ((this.doc['components'] as Record<string, Json>)['headers']?.[name] ?? {}) as Json;
  }

  /** What in `o` its operation does not document. */
  problems(o: Observed): string[] {
    const what = `${o.method} ${o.template} → ${o.status}`;
    const op = this.operation(o.method, o.template);
    if (op === undefined) return [`${what}: no such operation in the document`];
    const responses = op['responses'] as Record<string, Json>;
    const response =
      responses[String(o.status)] ?? responses[`${String(o.status)[0]}XX`] ?? responses['default'];
    if (response === undefined) return [`${what}: status not documented`];
    const problems: string[] = [];
    for (const [name, raw] of Object.entries((response['headers'] ?? {}) as Record<string, Json>)) {
      const header = this.#header(raw);
      const value = o.headers.get(name);
      if (value === null) {
        if (header['required'] === true) problems.push(`${what}: no ${name} header`);
        continue;
      }
      const schema = header['schema'] as Json | undefined;
      const typed = schema?.['type'] === 'integer' ? Number(value) : value;
      if (schema !== undefined && !this.validator(schema)(typed))
        problems.push(`${what}: header ${name}: ${value} does not match its schema`);
    }
    const content = (response['content'] ?? {}) as Record<string, Json>;
    const documented = Object.keys(content).find((m) => mediaMatches(m, o.contentType));
    if (documented === undefined) {
      if (Object.keys(content).length > 0 || (o.body ?? '') !== '')
        problems.push(`${what}: content type ${o.contentType} not documented`);
      return problems;
    }
    const schema = content[documented]?.['schema'] as object | undefined;
    if (schema === undefined || o.body === undefined) return problems;
    let value: unknown = o.body;
    if (mediaOf(documented).essence.endsWith('json')) {
      try {
        value = JSON.parse(o.body);
      } catch {
        return [...problems, `${what}: the body is not JSON: ${o.body.slice(0, 80)}`];
      }
    }
    const validate = this.validator(schema);
    if (!validate(value))
      problems.push(
        `${what}: body: ${this.#ajv.errorsText(validate.errors)} in ${o.body.slice(0, 200)}`,
      );
    return problems;
  }
}

interface Call {
  readonly method: string;
  readonly template: string;
  /** The path as sent, with its query; the template when absent. */
  readonly path?: string;
  /** `null`: no token. */
  readonly token?: string | null;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly raw?: string;
}

const KIB = 1024;
const LONG_ID = 'a'.repeat(101);

/** The probes every operation gets, whatever it is, derived from its document entry. */
function probesOf(template: string, method: string, op: Json): Call[] {
  const withId = (id: string) => template.replace('{id}', id);
  const path = withId('ghost');
  const secured = template.startsWith('/v1/');
  const calls: Call[] = [];
  if (secured) calls.push({ method, template, path, token: null });
  const params = (op['parameters'] ?? []) as Json[];
  if (params.some((p) => p['in'] === 'query'))
    calls.push({ method, template, path: `${path}?zzz=1` });
  if (template.includes('{id}')) {
    calls.push({ method, template, path: withId(LONG_ID) });
    calls.push({ method, template, path: withId('Not_An-Id') });
    calls.push({ method, template, path: withId('ghost') });
  }
  if (method !== 'GET') {
    const json = { 'content-type': 'application/json' };
    calls.push({ method, template, path, headers: json, raw: '{"half":' });
    calls.push({ method, template, path, headers: { 'content-type': 'text/xml' }, raw: '<x/>' });
    calls.push({ method, template, path, headers: json, raw: `{"x":"${'a'.repeat(70 * KIB)}"}` });
    calls.push({
      method,
      template,
      path,
      headers: { ...json, 'content-encoding': 'gzip' },
      raw: '{}',
    });
  }
  return calls;
}

async function send(url: string, c: Call): Promise<Observed> {
  const headers: Record<string, string> = { ...c.headers };
  const token = c.token === undefined ? TEST_TOKEN : c.token;
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  let body = c.raw;
  if (c.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(c.json);
  }
  const response = await fetch(`${url}${c.path ?? c.template}`, {
    method: c.method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const contentType = response.headers.get('content-type') ?? '';
  const stream = contentType.startsWith('text/event-stream');
  if (stream) await response.body?.cancel();
  return {
    method: c.method,
    template: c.template,
    status: response.status,
    contentType,
    body: stream ? undefined : await response.text(),
    headers: response.headers,
  };
}

/** An HTTP/1.1 request without Host, which `fetch` will not send. */
async function sendWithoutHost(url: string, method: string, template: string): Promise<Observed> {
  const connection = await openRawConnection(url);
  const path = template.replace('{id}', 'ghost');
  connection.write(`${method} ${path} HTTP/1.1\r\nContent-Length: 0\r\n\r\n`);
  const r = await connection.response();
  connection.close();
  return {
    method,
    template,
    status: r.status,
    contentType: r.headers['content-type'] ?? '',
    body: r.body,
    headers: new Headers(r.headers),
  };
}

const agent = (id: string) => ({
  id,
  mode: 'agent',
  readiness: 'external',
  command: ['sleep', '3600'],
});

const POLICY = '/v1/workers/{id}/policy';
const HEARTBEAT = '/v1/workers/{id}/heartbeat';

/** A policy change and heartbeats of a live agent: each media type, and what is refused. */
function policyScenarios(id: string): Call[] {
  const policy = { method: 'PATCH', template: POLICY, path: `/v1/workers/${id}/policy` };
  const heartbeat = { method: 'POST', template: HEARTBEAT, path: `/v1/workers/${id}/heartbeat` };
  return [
    { ...policy, json: { maxLifetimeSeconds: 7200, expiryWarningSeconds: 30 } },
    { ...policy, json: { extendLifetimeBySeconds: 600 } },
    { ...policy, json: { extendLifetimeBySeconds: 600, maxLifetimeSeconds: 600 } },
    // JSON only: another media type is refused before its body is looked at.
    {
      ...policy,
      headers: { 'content-type': 'application/merge-patch+json' },
      raw: '{"idleTimeoutSeconds":600,"ttlAfterCompletionSeconds":null}',
    },
    { ...policy, headers: { 'content-type': 'text/plain' }, raw: '{"idleTimeoutSeconds":600}' },
    { ...policy, json: {} },
    { ...policy, json: { maxLifetimeSeconds: 0, orphanAction: 'remove' } },
    heartbeat,
    { ...heartbeat, json: { by: 'dispatcher-7' } },
    { ...heartbeat, json: { by: '' } },
    { ...heartbeat, json: { by: '   ' } },
    { method: 'POST', template: HEARTBEAT, path: '/v1/workers/c-job/heartbeat' },
  ];
}

/** What the scenarios ask beyond the probes: the 2xx of each route and their domain errors. */
const SCENARIOS: readonly Call[] = [
  { method: 'POST', template: '/v1/workers', json: agent('c-agent') },
  { method: 'POST', template: '/v1/workers', json: agent('c-agent') },
  { method: 'POST', template: '/v1/workers', json: { ...agent('c-agent'), labels: { a: 'b' } } },
  {
    method: 'POST',
    template: '/v1/workers',
    json: { id: 'c-job', mode: 'job', command: ['echo', 'hi'] },
  },
  {
    method: 'POST',
    template: '/v1/workers',
    json: { id: 'c-kept', command: ['true'], policy: { ttlAfterCompletionSeconds: 600 } },
  },
  { method: 'POST', template: '/v1/workers', json: { mode: 'nope', env: { HODEI_X: '1' } } },
  { method: 'POST', template: '/v1/workers', json: agent('c-gone') },
  { method: 'GET', template: '/v1/workers' },
  { method: 'GET', template: '/v1/workers', path: '/v1/workers?limit=1&state=creating&mode=agent' },
  { method: 'GET', template: '/v1/workers', path: '/v1/workers?limit=0' },
  { method: 'GET', template: '/v1/workers', path: '/v1/workers?cursor=not-a-cursor' },
  { method: 'GET', template: '/v1/workers/{id}', path: '/v1/workers/c-agent' },
  { method: 'POST', template: '/v1/workers/{id}/ready', path: '/v1/workers/c-agent/ready' },
  { method: 'POST', template: '/v1/workers/{id}/busy', path: '/v1/workers/c-agent/busy' },
  { method: 'POST', template: '/v1/workers/{id}/ready', path: '/v1/workers/c-job/ready' },
  { method: 'POST', template: '/v1/workers/{id}/busy', path: '/v1/workers/c-job/busy' },
  ...policyScenarios('c-agent'),
  { method: 'GET', template: '/v1/workers/{id}/logs', path: '/v1/workers/c-job/logs?tail=5' },
  { method: 'GET', template: '/v1/workers/{id}/logs', path: '/v1/workers/c-job/logs?tail=all' },
  { method: 'GET', template: '/v1/workers/{id}/logs', path: '/v1/workers/c-job/logs?tail=x' },
  { method: 'GET', template: '/v1/workers/{id}/events', path: '/v1/workers/c-job/events' },
  { method: 'POST', template: '/v1/gc' },
  { method: 'POST', template: '/v1/gc', headers: { 'content-type': 'application/json' }, raw: '' },
  { method: 'GET', template: '/v1/events', headers: { 'last-event-id': 'x' } },
  {
    method: 'GET',
    template: '/v1/events',
    path: '/v1/events?type=WorkerCreated,io.hodei.lifecycle.WorkerReady&heartbeats=true&workerId=c-job',
  },
  { method: 'GET', template: '/v1/events', path: '/v1/events?heartbeats=maybe' },
  { method: 'GET', template: '/v1/events', path: '/v1/events?workerId=Not_An-Id' },
  { method: 'DELETE', template: '/v1/workers/{id}', path: '/v1/workers/c-gone' },
  { method: 'DELETE', template: '/v1/workers/{id}', path: '/v1/workers/c-gone' },
  { method: 'DELETE', template: '/v1/workers/{id}', path: '/v1/workers/c-agent?wait=true' },
  // An unknown worker's policy: 404.
  {
    method: 'PATCH',
    template: POLICY,
    path: '/v1/workers/c-none/policy',
    json: { maxLifetimeSeconds: 60 },
  },
  { method: 'DELETE', template: '/v1/workers/{id}', path: '/v1/workers/c-job?wait=maybe' },
  { method: 'GET', template: '/openapi.json', token: null },
  { method: 'GET', template: '/metrics', token: null },
  { method: 'GET', template: '/healthz', token: null },
  { method: 'GET', template: '/readyz', token: null },
  { method: 'GET', template: '/readyz' },
];

const SESSION = '/v1/session';

/** Around a browser session: its reads, a change with and without its CSRF token, sign-out. */
function sessionScenarios(cookie: string, csrfToken: string): Call[] {
  const browser = { token: null, headers: { cookie } };
  const change = { token: null, headers: { cookie, 'x-csrf-token': csrfToken } };
  return [
    { method: 'POST', template: SESSION, token: null, json: { token: 'not-the-api-token' } },
    { method: 'POST', template: SESSION, token: null, json: { token: '', extra: 1 } },
    { method: 'GET', template: SESSION, ...browser },
    { method: 'GET', template: SESSION },
    { method: 'POST', template: '/v1/gc', ...browser },
    { method: 'POST', template: '/v1/gc', ...change },
    { method: 'GET', template: '/v1/stats/workers', ...browser },
    { method: 'GET', template: '/v1/stats/deadlines' },
    {
      method: 'GET',
      template: '/v1/stats/deadlines',
      path: '/v1/stats/deadlines?windowSeconds=60',
    },
    { method: 'GET', template: '/v1/stats/deadlines', path: '/v1/stats/deadlines?windowSeconds=0' },
    { method: 'DELETE', template: SESSION, ...browser },
    { method: 'DELETE', template: SESSION, ...change },
    { method: 'GET', template: SESSION, ...browser },
  ];
}

const HOOKS = '/v1/webhooks';
const HOOK = '/v1/webhooks/{id}';
const HOOK_ALLOWED = 'http://127.0.0.1:9/hooks/';

/** Webhooks on a server with PostgreSQL: each 2xx and what is refused, around one webhook `id`. */
function webhookScenarios(id: string): Call[] {
  const one = (template: string, suffix = '') => ({ template, path: `${HOOKS}/${id}${suffix}` });
  const replay = { method: 'POST', ...one(`${HOOK}/replay`, '/replay') };
  return [
    { method: 'POST', template: HOOKS, json: { url: 'http://10.0.0.1/' } },
    {
      method: 'POST',
      template: HOOKS,
      json: { url: `${HOOK_ALLOWED}x`, secret: 'whsec_c2hvcnQ=' },
    },
    { method: 'POST', template: HOOKS, json: { url: `${HOOK_ALLOWED}x`, types: ['Nope'] } },
    { method: 'GET', template: HOOKS },
    { method: 'GET', ...one(HOOK) },
    { method: 'GET', ...one(`${HOOK}/dead-letters`, '/dead-letters') },
    { ...replay, json: { from: '2020-01-01T00:00:00Z' } },
    { ...replay, json: { from: 'soon' } },
    { ...replay, json: {} },
    { method: 'DELETE', ...one(HOOK) },
    { method: 'DELETE', ...one(HOOK) },
    { method: 'GET', ...one(HOOK) },
    { method: 'GET', ...one(`${HOOK}/dead-letters`, '/dead-letters') },
    { ...replay, json: { from: 'c1.x' } },
  ];
}

/** On a server without PostgreSQL: every webhook route answers 409. */
const NO_DATABASE_WEBHOOK_SCENARIOS: readonly Call[] = [
  { method: 'POST', template: HOOKS, json: { url: `${HOOK_ALLOWED}x` } },
  { method: 'GET', template: HOOKS },
  { method: 'GET', template: HOOK, path: `${HOOKS}/00000000-0000-4000-8000-000000000000` },
];

/** On a server whose Docker Engine does not answer, lifecycle management on: no recovery yet. */
const UNRECOVERED_SCENARIOS: readonly Call[] = [
  {
    method: 'PATCH',
    template: POLICY,
    path: '/v1/workers/x/policy',
    json: { idleTimeoutSeconds: 60 },
  },
  { method: 'POST', template: HEARTBEAT, path: '/v1/workers/x/heartbeat' },
];

/** On a server whose Docker Engine does not answer, lifecycle management off. */
const DOWN_SCENARIOS: readonly Call[] = [
  { method: 'GET', template: '/readyz' },
  { method: 'GET', template: '/v1/workers' },
  { method: 'POST', template: '/v1/workers', json: {} },
  { method: 'POST', template: '/v1/workers/{id}/ready', path: '/v1/workers/x/ready' },
  {
    method: 'PATCH',
    template: POLICY,
    path: '/v1/workers/x/policy',
    json: { idleTimeoutSeconds: 60 },
  },
  { method: 'POST', template: HEARTBEAT, path: '/v1/workers/x/heartbeat' },
  { method: 'DELETE', template: '/v1/workers/{id}', path: '/v1/workers/x' },
  { method: 'GET', template: '/v1/workers/{id}/logs', path: '/v1/workers/x/logs' },
  { method: 'GET', template: '/v1/workers/{id}', path: '/v1/workers/x' },
  { method: 'POST', template: '/v1/gc' },
];

describe('every route against the OpenAPI document', () => {
  let t: TestServer;
  let down: TestServer;
  let unrecovered: TestServer;
  let hooks: TestServer;
  let db: TestDatabase;
  let contract: Contract;
  const seen = new Map<string, Set<number>>();
  const problems: string[] = [];

  const record = (o: Observed) => {
    const key = `${o.method} ${o.template}`;
    seen.set(key, (seen.get(key) ?? new Set()).add(o.status));
    problems.push(...contract.problems(o));
  };

  beforeAll(async () => {
    t = await startTestServer({ HODEI_MAX_WORKERS: '6' });
    down = await startTestServer({
      HODEI_PROVIDERS: 'docker',
      DOCKER_HOST: 'tcp://127.0.0.1:1',
      HODEI_LIFECYCLE_ENABLED: 'false',
    });
    unrecovered = await startTestServer({
      HODEI_PROVIDERS: 'docker',
      DOCKER_HOST: 'tcp://127.0.0.1:1',
    });
    db = await createTestDatabase();
    hooks = await startTestServer({
      DATABASE_URL: db.url,
      HODEI_WEBHOOK_ALLOWED_URLS: HOOK_ALLOWED,
    });
    contract = new Contract((await t.api('GET', '/openapi.json', { token: null })).body as Json);
  });

  afterAll(async () => {
    const left = await t?.api('GET', '/v1/workers?limit=1000');
    for (const w of (left?.body?.items ?? []) as { id: string }[])
      await t.api('DELETE', `/v1/workers/${w.id}?wait=true`);
    await t?.stop();
    await down?.stop();
    await unrecovered?.stop();
    await hooks?.stop();
    await db?.drop();
  });

  it('compiles every schema of the document as JSON Schema 2020-12, strict', () => {
    const failed: string[] = [];
    for (const [where, schema] of contract.schemas()) {
      try {
        contract.validator(schema);
      } catch (cause) {
        failed.push(`${where}: ${(cause as Error).message}`);
      }
    }
    expect(failed).toEqual([]);
  });

  it('documents the heartbeat’s body as optional, and what a policy change answers', () => {
    const paths = contract.doc['paths'] as Record<string, Record<string, Json>>;
    const heartbeat = paths['/v1/workers/{id}/heartbeat']?.['post'];
    expect((heartbeat?.['requestBody'] as Json | undefined)?.['required']).toBe(false);
    const change = paths['/v1/workers/{id}/policy']?.['patch'];
    expect(Object.keys((change?.['requestBody'] as Json)['content'] as Json)).toEqual([
      'application/json',
    ]);
    const responses = change?.['responses'] as Record<string, Json>;
    expect(Object.keys(responses['200']?.['headers'] as Json)).toContain('Hodei-Policy-Changed');
    expect(Object.keys(responses['503']?.['headers'] as Json)).toContain('Retry-After');
  });

  it('answers only what each operation documents', async () => {
    const operations = [...contract.operations()];
    for (const [name, op] of operations) {
      const [method = '', template = ''] = name.split(' ');
      record(await sendWithoutHost(t.url, method, template));
      for (const call of probesOf(template, method, op)) record(await send(t.url, call));
    }
    for (const call of SCENARIOS) record(await send(t.url, call));
    // A finished job kept 600 s: only its retention may change, 409.
    await eventually(
      () => t.api('GET', '/v1/workers/c-kept'),
      (w) => w.body?.state === 'terminated',
    );
    record(
      await send(t.url, {
        method: 'PATCH',
        template: POLICY,
        path: '/v1/workers/c-kept/policy',
        json: { maxLifetimeSeconds: 60 },
      }),
    );
    const signedIn = await send(t.url, {
      method: 'POST',
      template: SESSION,
      token: null,
      json: { token: TEST_TOKEN },
    });
    record(signedIn);
    const cookie = (signedIn.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
    const csrf = (JSON.parse(signedIn.body ?? '{}') as { csrfToken?: string }).csrfToken ?? '';
    for (const call of sessionScenarios(cookie, csrf)) record(await send(t.url, call));
    // Wrong tokens at sign-in until the bound: 429.
    for (let i = 0; i < 12 && !seen.get(`POST ${SESSION}`)?.has(429); i++)
      record(
        await send(t.url, {
          method: 'POST',
          template: SESSION,
          token: null,
          json: { token: `wrong-${i}` },
        }),
      );
    // Agents up to HODEI_MAX_WORKERS, then one more: 429.
    for (let i = 0; i < 8 && !seen.get('POST /v1/workers')?.has(429); i++)
      record(
        await send(t.url, { method: 'POST', template: '/v1/workers', json: agent(`c-fill-${i}`) }),
      );
    for (const call of DOWN_SCENARIOS) record(await send(down.url, call));
    for (const call of UNRECOVERED_SCENARIOS) {
      const answer = await send(unrecovered.url, call);
      record(answer);
      expect([answer.status, answer.headers.get('retry-after')]).toEqual([503, '5']);
    }
    const created = await send(hooks.url, {
      method: 'POST',
      template: HOOKS,
      json: { url: `${HOOK_ALLOWED}contract`, types: ['WorkerEphemeralReady'] },
    });
    record(created);
    const hookId = (JSON.parse(created.body ?? '{}') as { id?: string }).id ?? 'none';
    for (const call of webhookScenarios(hookId)) record(await send(hooks.url, call));
    for (const call of NO_DATABASE_WEBHOOK_SCENARIOS) record(await send(t.url, call));
    // A route without a scenario of its own (added later): called plainly, it answers a 2xx.
    for (const [name] of operations) {
      const [method = '', template = ''] = name.split(' ');
      if ([...(seen.get(name) ?? [])].some((s) => s < 300)) continue;
      record(await send(t.url, { method, template, path: template.replace('{id}', 'c-job') }));
    }

    for (const [name, op] of operations) {
      const documented = Object.keys(op['responses'] as Json).sort();
      const provoked = [...(seen.get(name) ?? [])].sort();
      console.log(
        `${name.padEnd(32)} provoked ${provoked.join(' ')}; documented, not provoked: ${documented.filter((s) => !provoked.includes(Number(s))).join(' ') || '—'}`,
      );
    }
    expect(problems).toEqual([]);
    const missing = operations
      .map(([name]) => name)
      .filter((name) => {
        const s = [...(seen.get(name) ?? [])];
        // The sign-out needs no credentials: without a session it answers 204 all the same.
        const needs401 =
          name.split(' ')[1]?.startsWith('/v1/') === true && name !== 'DELETE /v1/session';
        return !s.some((x) => x < 300) || !s.includes(400) || (needs401 && !s.includes(401));
      });
    expect(missing, 'operations without a 2xx, a 400 and (under /v1) a 401 seen').toEqual([]);
  });
});
