import type { FastifyInstance } from 'fastify';

export interface InputProblem {
  readonly path: string;
  readonly message: string;
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNPRINTABLE = new RegExp(`[\\u0000-\\u001f\\u007f]|${LONE_SURROGATE.source}`, 'g');

/** Enough to fix a request; a body can hold thousands of strings. */
const MAX_PROBLEMS = 20;

/** The headers the server reads; the rest are never looked at. */
const READ_HEADERS = ['authorization', 'x-correlation-id', 'last-event-id'] as const;

/**
 * Why `s` cannot go further: PostgreSQL and runc refuse NULs, and a lone surrogate has no UTF-8
 * form, so either one would come back from a backend as a 5xx instead of a 400 here.
 */
function defectOf(s: string): string | undefined {
  if (s.includes('\u0000')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(s)) return 'is not well-formed UTF-16 (it has a lone surrogate)';
  return undefined;
}

/** A path segment as it can be printed: control characters and lone surrogates escaped. */
const printable = (segment: string): string =>
  segment.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * Every string in `root`, names of object members included, that holds a NUL or a lone
 * surrogate, each with its path (`body.env.NAME`). Walks without recursion: a 64 KiB body can
 * nest tens of thousands of levels deep.
 */
export function malformedStrings(root: unknown, context: string): InputProblem[] {
  const problems: InputProblem[] = [];
  const pending: { value: unknown; path: string }[] = [{ value: root, path: context }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      const defect = defectOf(value);
      if (defect !== undefined) problems.push({ path, message: defect });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i -= 1)
        pending.push({ value: value[i], path: `${path}.${i}` });
    } else if (typeof value === 'object' && value !== null) {
      const members: { value: unknown; path: string }[] = [];
      for (const [key, member] of Object.entries(value)) {
        const defect = defectOf(key);
        const memberPath = `${path}.${printable(key)}`;
        if (defect !== undefined)
          problems.push({ path: memberPath, message: `its name ${defect}` });
        else members.push({ value: member, path: memberPath });
      }
      for (const m of members.reverse()) pending.push(m);
    }
    if (problems.length >= MAX_PROBLEMS) break;
  }
  return problems;
}

/**
 * Before the schemas look: 400 naming every path id, query, body string and read header that
 * holds a NUL or a lone surrogate.
 */
export function rejectMalformedStrings(app: FastifyInstance): void {
  app.addHook('preValidation', async (request, reply) => {
    const problems = [
      ...malformedStrings(request.params, 'params'),
      ...malformedStrings(request.query, 'query'),
      ...malformedStrings(request.body, 'body'),
      ...READ_HEADERS.flatMap((h) => malformedStrings(request.headers[h], `headers.${h}`)),
    ].slice(0, MAX_PROBLEMS);
    if (problems.length === 0) return undefined;
    return reply.code(400).send({
      error: 'ValidationFailed',
      message: problems.map((p) => `${p.path} ${p.message}`).join('; '),
      problems,
    });
  });
}
