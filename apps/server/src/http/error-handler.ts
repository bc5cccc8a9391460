import type { FastifyError, FastifyInstance } from 'fastify';
import { integerTextMessage } from './openapi-query-types.js';
import { ID_DESCRIPTION, ID_PATTERN } from './schemas.js';

interface AjvError {
  readonly instancePath?: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

/** Ajv's errors as `{ path, message }` problems, the path naming the field (`body.policy.x`). */
function problemsOf(error: FastifyError): { path: string; message: string }[] {
  const context = error.validationContext ?? 'body';
  return (
    (error.validation ?? [])
      .map((raw) => {
        const e = raw as AjvError;
        const segments = (e.instancePath ?? '')
          .split('/')
          .filter((s) => s !== '')
          .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
        const params = e.params ?? {};
        const extra =
          (typeof params['additionalProperty'] === 'string' && params['additionalProperty']) ||
          (typeof params['missingProperty'] === 'string' && params['missingProperty']) ||
          (typeof params['propertyName'] === 'string' && params['propertyName']) ||
          undefined;
        let message = e.message ?? 'is invalid';
        if (e.keyword === 'additionalProperties') message = 'is not a known field';
        if (e.keyword === 'minProperties') message = 'must name at least one field';
        if (e.keyword === 'pattern' && params['pattern'] === ID_PATTERN)
          message = `must be ${ID_DESCRIPTION}`;
        if (e.keyword === 'pattern') message = integerTextMessage(params['pattern']) ?? message;
        if (e.keyword === 'propertyNames' && typeof params['propertyName'] === 'string') {
          message = /^hodei[._]/i.test(params['propertyName'])
            ? 'is reserved (hodei. labels, HODEI_ variables)'
            : 'is not a valid name';
        }
        return {
          path: [context, ...segments, ...(extra === undefined ? [] : [extra])].join('.'),
          message,
        };
      })
      .filter(
        (p, i, all) => all.findIndex((q) => q.path === p.path && q.message === p.message) === i,
      )
      // Ajv reports a failed propertyNames twice: the name, then the keyword; keep the first.
      .filter((p) => p.message !== 'property name must be valid')
  );
}

/**
 * What the routes do not answer themselves: invalid requests (400, 413, 415), unknown routes
 * (404), and anything that threw (500, logged with its stack, with nothing of it in the body).
 */
export function addErrorHandlers(app: FastifyInstance, bodyLimit: number | undefined): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation !== undefined) {
      const problems = problemsOf(error);
      return reply.code(400).send({
        error: 'ValidationFailed',
        message: problems.map((p) => `${p.path} ${p.message}`).join('; '),
        problems,
      });
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send({
          error: 'PayloadTooLarge',
          message: `the body is larger than ${bodyLimit ?? 65_536} bytes`,
        });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply
          .code(415)
          .send({ error: 'UnsupportedMediaType', message: 'send application/json' });
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.code(400).send({ error: 'InvalidJson', message: error.message });
      default:
        break;
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply
        .code(error.statusCode)
        .send({ error: error.code ?? 'BadRequest', message: error.message });
    }
    // Logged once answered, with the request's line (see request-hooks.ts).
    request.failure = { error: 'InternalError', message: error.message, cause: error };
    return reply
      .code(500)
      .send({ error: 'InternalError', message: 'the server failed; see its log' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: 'NotFound',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    }),
  );
}
