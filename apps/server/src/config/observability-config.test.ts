import { describe, expect, it } from 'vitest';
import { EnvReader } from './env-reader.js';
import {
  DEFAULT_OBSERVABILITY,
  observabilityOf,
  readObservabilityConfig,
} from './observability-config.js';

const read = (env: Record<string, string>) => {
  const reader = new EnvReader(env);
  return { config: readObservabilityConfig(reader), problems: reader.problems };
};

describe('observability settings', () => {
  it('defaults to a format chosen by the terminal, info request lines, 3 failures for 60 s', () => {
    expect(read({})).toEqual({
      config: {
        logFormat: 'auto',
        requestLogLevel: 'info',
        degradedAfterFailures: 3,
        degradedForMs: 60_000,
      },
      problems: [],
    });
  });

  it('reads each setting from its variable, in any case for the words', () => {
    expect(
      read({
        HODEI_LOG_FORMAT: 'Pretty',
        HODEI_REQUEST_LOG_LEVEL: 'DEBUG',
        HODEI_PROVIDER_DEGRADED_AFTER_FAILURES: '1',
        HODEI_PROVIDER_DEGRADED_FOR_SECONDS: '300',
      }).config,
    ).toEqual({
      logFormat: 'pretty',
      requestLogLevel: 'debug',
      degradedAfterFailures: 1,
      degradedForMs: 300_000,
    });
    expect(read({ HODEI_LOG_FORMAT: 'json', HODEI_REQUEST_LOG_LEVEL: 'silent' }).config).toEqual(
      expect.objectContaining({ logFormat: 'json', requestLogLevel: 'silent' }),
    );
  });

  it.each([
    ['HODEI_LOG_FORMAT', 'logfmt', 'one of json, pretty'],
    ['HODEI_REQUEST_LOG_LEVEL', 'loud', 'one of fatal, error, warn, info, debug, trace, silent'],
    ['HODEI_PROVIDER_DEGRADED_AFTER_FAILURES', '0', 'a whole number of failures'],
    ['HODEI_PROVIDER_DEGRADED_FOR_SECONDS', '3601', 'whole seconds from 1 to 3600'],
  ])('refuses %s=%s, naming what it accepts', (variable, value, accepts) => {
    const { config, problems } = read({ [variable]: value });
    expect(problems).toEqual([{ variable, value, accepts: expect.stringContaining(accepts) }]);
    expect(config).toEqual(DEFAULT_OBSERVABILITY);
  });

  it('falls back to the defaults for a configuration that has no observability settings', () => {
    expect(observabilityOf({ httpPort: 8080 })).toBe(DEFAULT_OBSERVABILITY);
    const mine = { ...DEFAULT_OBSERVABILITY, requestLogLevel: 'warn' as const };
    expect(observabilityOf({ observability: mine })).toBe(mine);
  });
});
