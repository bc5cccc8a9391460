import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { LogLine } from '@hodei/domain';

/** Lines are sent in writes of about this many characters, or sooner when the log pauses. */
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes the lines as `line\n` text as they come, waiting for the socket to drain before
 * reading more: a slow client slows the read of the log rather than filling the server's
 * memory. Lines read together go out in one write; a pause in the log flushes at once.
 * Rejects with an AbortError when `gone` aborts (the client went away).
 */
export async function writeLogLines(
  raw: ServerResponse,
  lines: AsyncIterable<LogLine>,
  gone: AbortSignal,
): Promise<void> {
  let pending = '';
  let timer: NodeJS.Immediate | undefined;
  const flush = (): void => {
    timer = undefined;
    if (pending !== '' && !raw.destroyed) raw.write(pending);
    pending = '';
  };
  try {
    for await (const line of lines) {
      if (raw.destroyed || raw.writableEnded) return;
      if (raw.writableNeedDrain) await once(raw, 'drain', { signal: gone });
      pending += `${line.line}\n`;
      if (pending.length >= CHUNK_CHARS) {
        clearImmediate(timer);
        flush();
      } else timer ??= setImmediate(flush);
    }
  } finally {
    clearImmediate(timer);
    flush();
  }
}
