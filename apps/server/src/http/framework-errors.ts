import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from './error-mapping.js';

/** What Node's HTTP parser reports on `clientError`; Fastify types `rawPacket` as JSON. */
interface ClientError extends Error {
  readonly code?: string;
  /** The chunk being parsed when it failed (a Buffer). */
  readonly rawPacket?: unknown;
  /** Where in `rawPacket` the parser stopped. */
  readonly bytesParsed?: number;
}

interface Answer {
  readonly status: number;
  readonly body: ErrorBody;
}

const METHOD_THEN_SPACE = /^[A-Z]+ /;

/** The router's limit on one path segment; ids are at most 50 characters. */
export const MAX_PATH_SEGMENT = 100;

/**
 * Node counts the request line in its header limit; when the parser stopped before the end of
 * the request line, the URL is what is too long. A request line split over several reads is
 * reported as 431: the chunk in hand no longer starts with it.
 */
function urlTooLong(error: ClientError): boolean {
  if (!Buffer.isBuffer(error.rawPacket)) return false;
  const packet = error.rawPacket.toString('latin1');
  const lineEnd = packet.indexOf('\r\n');
  const stoppedAt = error.bytesParsed ?? packet.length;
  return METHOD_THEN_SPACE.test(packet) && (lineEnd === -1 || lineEnd >= stoppedAt);
}

function answerOf(error: ClientError): Answer {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        body: {
          error: 'RequestTimeout',
          message:
            'the request was not received in time (HODEI_HTTP_HEADERS_TIMEOUT_SECONDS, HODEI_HTTP_REQUEST_TIMEOUT_SECONDS)',
        },
      };
    case 'HPE_HEADER_OVERFLOW':
      return urlTooLong(error)
        ? { status: 414, body: { error: 'UriTooLong', message: 'the URL is too long' } }
        : {
            status: 431,
            body: {
              error: 'HeadersTooLarge',
              message: 'the request line and headers are larger than the server accepts',
            },
          };
    default:
      return {
        status: 400,
        body: {
          error: 'MalformedRequest',
          message: `the request is not valid HTTP/1.1 (${error.code ?? error.message})`,
        },
      };
  }
}

/**
 * What the HTTP parser refuses before any route sees it (a malformed request line or header,
 * headers too large, a request not received in time), answered in the error envelope. The
 * connection is closed after: what follows on it cannot be trusted to start a request.
 */
export function answerClientError(error: ClientError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // Node's own rule: never write into a response already under way on this socket.
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const { status, body } = answerOf(error);
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      'Connection: close\r\n\r\n' +
      text,
    () => socket.destroy(),
  );
}

/** What the router refuses: a path that does not decode, or a segment past `maxParamLength`. */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (!request.raw.complete) void reply.header('connection', 'close');
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      void reply.code(400).send({
        error: 'InvalidUrl',
        message: 'the path is not valid percent-encoded UTF-8',
      });
      return;
    case 'FST_ERR_MAX_PARAM_LENGTH':
      void reply.code(414).send({
        error: 'UriTooLong',
        message: `a path segment is longer than ${MAX_PATH_SEGMENT} characters`,
      });
      return;
    default:
      request.log.error({ err: error }, 'request failed in the router');
      void reply
        .code(500)
        .send({ error: 'InternalError', message: 'the server failed; see its log' });
  }
}
