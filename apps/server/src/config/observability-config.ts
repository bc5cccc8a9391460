import type { EnvReader } from './env-reader.js';

export const LOG_FORMATS = ['json', 'pretty'] as const;
/** `auto`: pretty when the log goes to a terminal, JSON otherwise. */
export type LogFormat = (typeof LOG_FORMATS)[number] | 'auto';

export const REQUEST_LOG_LEVELS = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const;
export type RequestLogLevel = (typeof REQUEST_LOG_LEVELS)[number];

/** What the server writes about itself: its log's format, the request log, degraded providers. */
export interface ObservabilityConfig {
  readonly logFormat: LogFormat;
  /** The level of the one line per answered request; a 5xx is always written at `error`. */
  readonly requestLogLevel: RequestLogLevel;
  /** Failures in a row of one provider operation that make `/readyz` call it degraded. */
  readonly degradedAfterFailures: number;
  /** How long a degradation lasts after its last failure when nothing succeeds meanwhile. */
  readonly degradedForMs: number;
}

export const DEFAULT_OBSERVABILITY: ObservabilityConfig = {
  logFormat: 'auto',
  requestLogLevel: 'info',
  degradedAfterFailures: 3,
  degradedForMs: 60_000,
};

/** `HODEI_LOG_FORMAT`, `HODEI_REQUEST_LOG_LEVEL`, `HODEI_PROVIDER_DEGRADED_*`. */
export function readObservabilityConfig(reader: EnvReader): ObservabilityConfig {
  return {
    logFormat: oneOf(reader, 'HODEI_LOG_FORMAT', LOG_FORMATS, DEFAULT_OBSERVABILITY.logFormat),
    requestLogLevel: oneOf(
      reader,
      'HODEI_REQUEST_LOG_LEVEL',
      REQUEST_LOG_LEVELS,
      DEFAULT_OBSERVABILITY.requestLogLevel,
    ),
    degradedAfterFailures: reader.integer(
      'HODEI_PROVIDER_DEGRADED_AFTER_FAILURES',
      DEFAULT_OBSERVABILITY.degradedAfterFailures,
      1,
      1000,
      'a whole number of failures in a row from 1 to 1000',
    ),
    degradedForMs: reader.seconds(
      'HODEI_PROVIDER_DEGRADED_FOR_SECONDS',
      DEFAULT_OBSERVABILITY.degradedForMs,
    ),
  };
}

/**
 * The observability settings of a configuration, or the defaults when it has none (a
 * configuration made before `observability` was part of it).
 */
export function observabilityOf(config: object): ObservabilityConfig {
  const given = (config as { readonly observability?: ObservabilityConfig }).observability;
  return given ?? DEFAULT_OBSERVABILITY;
}

function oneOf<T extends string, F extends string>(
  reader: EnvReader,
  name: string,
  values: readonly T[],
  fallback: F,
): T | F {
  const raw = reader.read(name);
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  const found = values.find((v) => v === lower);
  if (found === undefined) reader.problem(name, raw, `one of ${values.join(', ')}`);
  return found ?? fallback;
}
