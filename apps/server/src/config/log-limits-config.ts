import { DEFAULT_LOG_LIMITS, type LogLimits } from '../workers/log-response.js';
import type { EnvReader } from './env-reader.js';

/** `HODEI_LOG_DEFAULT_TAIL` and `HODEI_LOG_RESPONSE_MAX_BYTES`. */
export function readLogLimits(reader: EnvReader): LogLimits {
  return {
    defaultTail: reader.integer(
      'HODEI_LOG_DEFAULT_TAIL',
      DEFAULT_LOG_LIMITS.defaultTail,
      0,
      1_000_000,
      'a whole number of lines from 0 to 1000000',
    ),
    maxBytes: reader.integer(
      'HODEI_LOG_RESPONSE_MAX_BYTES',
      DEFAULT_LOG_LIMITS.maxBytes,
      1024,
      1024 * 1024 * 1024,
      'a whole number of bytes from 1024 to 1073741824',
    ),
  };
}
