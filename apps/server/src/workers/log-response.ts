import type { LogLine } from '@hodei/domain';

/** What one `GET /v1/workers/{id}/logs` may return. */
export interface LogLimits {
  /** Lines from the end when the request names no `tail`; `tail=all` asks for every line. */
  readonly defaultTail: number;
  /** Bytes of one response (text, newlines included); past it, the response is cut. */
  readonly maxBytes: number;
}

export const DEFAULT_LOG_LIMITS: LogLimits = { defaultTail: 1000, maxBytes: 10 * 1024 * 1024 };

/** The first words of the line that ends a response cut at `maxBytes`. */
export const LOG_TRUNCATED_MARKER = '[hodei] log truncated:';

export const truncatedLine = (maxBytes: number): LogLine => ({
  stream: 'stderr',
  line: `${LOG_TRUNCATED_MARKER} this response stops at ${maxBytes} bytes; ask for fewer lines with ?tail=N`,
});

/**
 * The lines of `lines` that fit in `maxBytes` as `line\n` text, then one truncation line; the
 * source is closed there (for Docker: its connection), so nothing past the cap is read.
 */
export async function* capLogLines(
  lines: AsyncIterable<LogLine>,
  maxBytes: number,
): AsyncGenerator<LogLine> {
  let left = maxBytes;
  for await (const line of lines) {
    left -= Buffer.byteLength(line.line) + 1;
    if (left < 0) {
      yield truncatedLine(maxBytes);
      return;
    }
    yield line;
  }
}
