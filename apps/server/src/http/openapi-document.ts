import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { documentedQuerystring } from './openapi-query-types.js';
import { CORRELATION_HEADER } from './openapi-responses.js';

/**
 * The options of @fastify/swagger that make `/openapi.json` an OpenAPI 3.1 document: named
 * components, the security schemes, the tags, query values typed as what they spell, and the
 * correlation id as a shared request parameter and response header on every operation.
 */

const CORRELATION_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

const TAGS = [
  {
    name: 'workers',
    description: 'Create, list, move and destroy workers; their logs and history',
  },
  { name: 'events', description: 'Lifecycle events as they happen' },
  { name: 'passes', description: 'The garbage collection and reconciliation passes' },
  {
    name: 'webhooks',
    description:
      'Lifecycle events POSTed to your endpoints, signed, retried, replayable from the log',
  },
  {
    name: 'session',
    description:
      'Browser sessions for the dashboard (/ui): the token traded for an HttpOnly cookie',
  },
  { name: 'system', description: 'Served without a token: the document, metrics and probes' },
];

const COMPONENTS = {
  securitySchemes: {
    bearer: {
      type: 'http',
      scheme: 'bearer',
      description: 'HODEI_API_TOKEN, or the token file the server printed at start',
    },
    session: {
      type: 'apiKey',
      in: 'cookie',
      name: 'hodei_session',
      description:
        'a browser session from POST /v1/session; every method but GET and HEAD also sends X-CSRF-Token, and an Origin, if any, of this server',
    },
    ticket: {
      type: 'apiKey',
      in: 'query',
      name: 'ticket',
      description: 'a short-lived ticket from POST /v1/events/tickets, for a browser EventSource',
    },
  },
  parameters: {
    CorrelationId: {
      name: CORRELATION_HEADER,
      in: 'header',
      required: false,
      description:
        'carried into the events the request causes and echoed in the response; another value (or none) is replaced by a generated UUID',
      schema: { type: 'string', pattern: CORRELATION_PATTERN },
    },
  },
  headers: {
    CorrelationId: {
      description: 'the request’s X-Correlation-Id, or the one generated for it',
      required: true,
      schema: { type: 'string', pattern: CORRELATION_PATTERN },
    },
  },
};

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Each operation of `paths`, with its method. */
function* operationsOf(paths: unknown): Generator<[string, Json]> {
  if (!isObject(paths)) return;
  for (const item of Object.values(paths)) {
    if (!isObject(item)) continue;
    for (const [method, op] of Object.entries(item))
      if (isObject(op) && isObject(op['responses'])) yield [method, op];
  }
}

const PLACES = ['path', 'query', 'header'];
const placeOf = (p: unknown) => PLACES.indexOf(isObject(p) ? String(p['in']) : 'header');

/** Sent when a change made with the session cookie lacks its CSRF token or its origin. */
const CSRF_REFUSAL = {
  description:
    'Made with the session cookie: no or another X-CSRF-Token (`CsrfTokenMismatch`), or an Origin not of this server (`ForeignOrigin`)',
  headers: { [CORRELATION_HEADER]: { $ref: '#/components/headers/CorrelationId' } },
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

/** A change that the session cookie may make can be refused 403 (see `session-auth.ts`). */
function withCsrfRefusal(method: string, op: Json): void {
  if (method === 'get' || method === 'head') return;
  const security = Array.isArray(op['security']) ? (op['security'] as unknown[]) : [];
  if (!security.some((s) => isObject(s) && s['session'] !== undefined)) return;
  const responses = op['responses'] as Json;
  if (responses['403'] === undefined) responses['403'] = CSRF_REFUSAL;
}

/** Operations that take a body but need none (@fastify/swagger marks every body required). */
const OPTIONAL_BODIES = new Set(['heartbeatWorker']);

function withOptionalBody(op: Json): void {
  const body = op['requestBody'];
  if (isObject(body) && OPTIONAL_BODIES.has(String(op['operationId']))) body['required'] = false;
}

/**
 * The parameters path first, then the query, then the correlation id as the shared
 * parameter; where a response sends it, the shared header.
 */
function withCorrelation(op: Json): void {
  const parameters = Array.isArray(op['parameters']) ? (op['parameters'] as unknown[]) : [];
  op['parameters'] = [
    ...parameters.toSorted((a, b) => placeOf(a) - placeOf(b)),
    { $ref: '#/components/parameters/CorrelationId' },
  ];
  for (const response of Object.values(op['responses'] as Json)) {
    if (!isObject(response) || !isObject(response['headers'])) continue;
    const headers = response['headers'];
    if (headers[CORRELATION_HEADER] !== undefined)
      headers[CORRELATION_HEADER] = { $ref: '#/components/headers/CorrelationId' };
  }
}

export function openApiOptions(version: string): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Hodei Lifecycle',
        version,
        description: 'The lifecycle of ephemeral worker containers',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Relative: resolved against where the document was fetched from, behind any proxy.
      servers: [{ url: '/', description: 'this server' }],
      tags: TAGS,
      components: COMPONENTS,
    } as NonNullable<FastifyDynamicSwaggerOptions['openapi']>,
    // Shared schemas keep their `$id` as their name: `#/components/schemas/Worker`.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`,
    },
    convertConstToEnum: false,
    transform: ({ schema, url }) => ({
      url,
      schema:
        schema.querystring === undefined
          ? schema
          : { ...schema, querystring: documentedQuerystring(schema.querystring as Json) },
    }),
    transformObject: (document) => {
      const openapi = 'openapiObject' in document ? document.openapiObject : {};
      for (const [method, op] of operationsOf(openapi.paths)) {
        withCsrfRefusal(method, op);
        withOptionalBody(op);
        withCorrelation(op);
      }
      return openapi;
    },
  };
}
