import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';

describe('HTTP limits in the server configuration', () => {
  it('bounds every request and connection by default', () => {
    expect(parseConfig({})._unsafeUnwrap().httpLimits).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 1024,
    });
  });

  it('reads each limit from its variable', () => {
    expect(
      parseConfig({
        HODEI_HTTP_HEADERS_TIMEOUT_SECONDS: '2',
        HODEI_HTTP_REQUEST_TIMEOUT_SECONDS: '3',
        HODEI_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '4',
        HODEI_HTTP_MAX_CONNECTIONS: '50',
      })._unsafeUnwrap().httpLimits,
    ).toEqual({
      headersTimeoutMs: 2_000,
      requestTimeoutMs: 3_000,
      keepAliveTimeoutMs: 4_000,
      maxConnections: 50,
    });
  });

  it.each([
    ['HODEI_HTTP_REQUEST_TIMEOUT_SECONDS', '0'],
    ['HODEI_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', '3601'],
    ['HODEI_HTTP_MAX_CONNECTIONS', 'many'],
  ])('refuses %s=%s, naming what it accepts', (variable, value) => {
    const problems = parseConfig({ [variable]: value })._unsafeUnwrapErr();
    expect(problems).toEqual([{ variable, value, accepts: expect.any(String) }]);
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    const problems = parseConfig({
      HODEI_HTTP_HEADERS_TIMEOUT_SECONDS: '20',
      HODEI_HTTP_REQUEST_TIMEOUT_SECONDS: '10',
    })._unsafeUnwrapErr();
    expect(problems).toEqual([
      {
        variable: 'HODEI_HTTP_HEADERS_TIMEOUT_SECONDS',
        value: '20',
        accepts: expect.stringContaining('HODEI_HTTP_REQUEST_TIMEOUT_SECONDS'),
      },
    ]);
  });
});
