import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/test-server.js';

/**
 * `/openapi.json` as a generated client or a linter reads it: `redocly lint` with
 * apps/server/redocly.yaml (recommended-strict and the API's own rules) finds no problem,
 * and every operation registered, whoever added it, follows the conventions below.
 */

const CONFIG = fileURLToPath(new URL('../../redocly.yaml', import.meta.url));
const REDOCLY = join(
  dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')),
  'bin/cli.js',
);

interface LintProblem {
  readonly ruleId: string;
  readonly severity: 'error' | 'warn';
  readonly message: string;
  readonly location: readonly { readonly pointer: string }[];
}

interface LintReport {
  readonly totals: { readonly errors: number; readonly warnings: number };
  readonly problems: readonly LintProblem[];
}

/** `redocly lint --format=json` on `file`; it exits 1 when it finds errors. */
function lint(file: string): Promise<LintReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [REDOCLY, 'lint', file, '--config', CONFIG, '--format', 'json'],
      {
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        try {
          resolve(JSON.parse(stdout) as LintReport);
        } catch {
          reject(new Error(`redocly lint gave no report (${error?.message ?? ''}): ${stderr}`));
        }
      },
    );
  });
}

type Json = Record<string, unknown>;

interface Operation {
  readonly name: string;
  readonly path: string;
  readonly method: string;
  readonly op: Json;
}

function operationsOf(doc: Json): Operation[] {
  return Object.entries(doc['paths'] as Record<string, Record<string, Json>>).flatMap(
    ([path, item]) =>
      Object.entries(item).map(([method, op]) => ({
        name: `${method.toUpperCase()} ${path}`,
        path,
        method,
        op,
      })),
  );
}

const BEARER = { bearer: [] };
/** Trades the token in its body for a session cookie: a /v1 operation open to anyone. */
const SIGN_IN = 'POST /v1/session';
/** Forgets whatever session the cookie names: the other /v1 operation open to anyone. */
const SIGN_OUT = 'DELETE /v1/session';
const GET_NEVER = ['413', '415', '429'];

/** What Redocly cannot say: the API's own rules for every operation. */
function conventionProblems({ name, path, method, op }: Operation): string[] {
  const problems: string[] = [];
  const responses = Object.keys(op['responses'] as Json);
  const security = (op['security'] ?? []) as Json[];
  const parameters = (op['parameters'] ?? []) as Json[];
  const need = (ok: boolean, what: string) => {
    if (!ok) problems.push(`${name}: ${what}`);
  };
  need(typeof op['operationId'] === 'string', 'an operationId');
  need(typeof op['summary'] === 'string' && op['summary'] !== '', 'a summary');
  need(Array.isArray(op['tags']) && op['tags'].length === 1, 'one tag');
  need(
    parameters.some((p) => p['$ref'] === '#/components/parameters/CorrelationId'),
    'the X-Correlation-Id parameter',
  );
  need(
    !parameters.some((p) => p['in'] === 'header' && p['name'] === 'authorization'),
    'no Authorization parameter (the security scheme says it)',
  );
  if (name === SIGN_IN) {
    need(security.length === 0, 'no security requirement (the token is its body)');
    need(responses.includes('401'), 'a 401');
  } else if (name === SIGN_OUT) {
    need(security.length === 0, 'no security requirement (it needs no session)');
    need(!responses.includes('401'), 'no 401 (it answers 204 without a session)');
  } else if (path.startsWith('/v1/')) {
    need(
      security.some((s) => JSON.stringify(s) === JSON.stringify(BEARER)),
      'the bearer security requirement',
    );
    need(!security.some((s) => Object.keys(s).length === 0), 'no anonymous access');
    need(responses.includes('401'), 'a 401');
  } else {
    need(
      security.length === 0 || security.some((s) => Object.keys(s).length === 0),
      'anonymous access (a public route)',
    );
    need(!responses.includes('401'), 'no 401 (a public route)');
  }
  if (method === 'get') {
    need(op['requestBody'] === undefined, 'no body (a GET)');
    need(!responses.some((s) => GET_NEVER.includes(s)), `none of ${GET_NEVER.join(', ')} (a GET)`);
  }
  if (path.includes('{id}'))
    need(
      ['400', '404', '414'].every((s) => responses.includes(s)),
      'a 400, 404 and 414 (an id)',
    );
  need(
    responses.some((s) => s.startsWith('2')),
    'a 2xx',
  );
  return problems;
}

describe('the OpenAPI document', () => {
  let t: TestServer;
  let dir: string;
  let doc: Json;

  beforeAll(async () => {
    t = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), 'hodei-openapi-'));
    const served = await t.api('GET', '/openapi.json', { token: null });
    expect(served.status).toBe(200);
    doc = served.body as Json;
  });

  afterAll(async () => {
    await t?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('lints with no error under redocly.yaml (recommended-strict and the API rules)', async () => {
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(doc, null, 2));
    const report = await lint(file);
    for (const p of report.problems) {
      const where = p.location[0]?.pointer ?? '';
      console.log(`redocly ${p.severity} ${p.ruleId} ${where}: ${p.message}`);
    }
    console.log(`redocly lint: ${report.totals.errors} errors, ${report.totals.warnings} warnings`);
    expect(report.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(report.totals.errors).toBe(0);
  });

  it('is OpenAPI 3.1 with named components, a server, and typed query values', () => {
    expect(doc['openapi']).toBe('3.1.0');
    expect(doc['servers']).toEqual([{ url: '/', description: 'this server' }]);
    const schemas = Object.keys((doc['components'] as Json)['schemas'] as Json);
    expect(schemas).toEqual(
      expect.arrayContaining(['Worker', 'Policy', 'Error', 'CloudEvent', 'WorkerPage']),
    );
    expect(schemas.filter((s) => /^def-\d+$/.test(s))).toEqual([]);

    const query = (path: string, method: string, name: string) =>
      (
        ((doc['paths'] as Json)[path] as Record<string, Json>)[method]?.['parameters'] as Json[]
      ).find((p) => p['name'] === name)?.['schema'];
    expect(query('/v1/workers', 'get', 'limit')).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      default: 100,
    });
    expect(query('/v1/workers/{id}/logs', 'get', 'tail')).toMatchObject({
      oneOf: [{ type: 'integer' }, { type: 'string', enum: ['all'] }],
    });
    expect(query('/v1/workers/{id}', 'delete', 'wait')).toEqual({
      type: 'boolean',
      default: false,
    });
  });

  it('gives every registered operation an id, a summary, its security and only its errors', () => {
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThanOrEqual(14);
    expect(operations.flatMap(conventionProblems)).toEqual([]);
    const ids = operations.map((o) => o.op['operationId']);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents the media types of what is not JSON', () => {
    const contentOf = (path: string, status = '200') =>
      Object.keys(
        (
          (((doc['paths'] as Json)[path] as Record<string, Json>)['get']?.['responses'] as Json)[
            status
          ] as Json
        )['content'] as Json,
      );
    expect(contentOf('/v1/events')).toEqual(['text/event-stream']);
    expect(contentOf('/v1/workers/{id}/logs')).toEqual(['text/plain']);
    expect(contentOf('/metrics')).toEqual(['text/plain; version=0.0.4']);
    expect(contentOf('/openapi.json')).toEqual(['application/json']);
  });
});
