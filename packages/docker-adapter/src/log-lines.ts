import type { LogLine } from '@hodei/domain';

const HEADER = 8;
/**
 * A line longer than this is cut into pieces: a worker printing megabytes without a newline
 * must not make every reader hold them all.
 */
export const MAX_LINE_CHARS = 65_536;
const STREAMS: Record<number, LogLine['stream'] | undefined> = { 1: 'stdout', 2: 'stderr' };

/**
 * Splits Docker's log output into lines. Without a TTY the engine multiplexes stdout and
 * stderr: each frame is an 8-byte header (stream, 0, 0, 0, big-endian size) and its payload.
 * Partial frames and partial lines are carried over to the next chunk.
 */
export class LogLineSplitter {
  #frames: Buffer = Buffer.alloc(0);
  readonly #pending: Record<LogLine['stream'], string> = { stdout: '', stderr: '' };
  readonly #decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  constructor(private readonly multiplexed: boolean) {}

  push(chunk: Buffer): LogLine[] {
    if (!this.multiplexed) return this.#text('stdout', chunk);
    this.#frames = this.#frames.length === 0 ? chunk : Buffer.concat([this.#frames, chunk]);
    const lines: LogLine[] = [];
    // Consecutive frames of one stream are decoded together: one decode per run, not per frame.
    let run: { stream: LogLine['stream']; payloads: Buffer[] } | undefined;
    const flush = (): void => {
      if (run === undefined) return;
      const bytes = run.payloads.length === 1 ? run.payloads[0]! : Buffer.concat(run.payloads);
      for (const line of this.#text(run.stream, bytes)) lines.push(line);
      run = undefined;
    };
    let offset = 0;
    while (this.#frames.length - offset >= HEADER) {
      const size = this.#frames.readUInt32BE(offset + 4);
      if (this.#frames.length - offset < HEADER + size) break;
      const stream = STREAMS[this.#frames[offset] ?? 0] ?? 'stdout';
      if (run !== undefined && run.stream !== stream) flush();
      run ??= { stream, payloads: [] };
      run.payloads.push(this.#frames.subarray(offset + HEADER, offset + HEADER + size));
      offset += HEADER + size;
    }
    flush();
    this.#frames = this.#frames.subarray(offset);
    return lines;
  }

  /** What is left when the stream ends: unterminated last lines. */
  end(): LogLine[] {
    const lines: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.#pending[stream] + this.#decoders[stream].decode();
      if (rest !== '') lines.push({ stream, line: rest });
      this.#pending[stream] = '';
    }
    return lines;
  }

  #text(stream: LogLine['stream'], bytes: Buffer): LogLine[] {
    const text = this.#pending[stream] + this.#decoders[stream].decode(bytes, { stream: true });
    const parts = text.split('\n');
    let rest = parts.pop() ?? '';
    const lines = parts.map((line) => ({
      stream,
      line: line.endsWith('\r') ? line.slice(0, -1) : line,
    }));
    while (rest.length > MAX_LINE_CHARS) {
      lines.push({ stream, line: rest.slice(0, MAX_LINE_CHARS) });
      rest = rest.slice(MAX_LINE_CHARS);
    }
    this.#pending[stream] = rest;
    return lines;
  }
}

/**
 * The lines of a log stream, finished or followed, as they are read: never more than one
 * chunk and one partial line in memory. Breaking out of the loop closes the stream.
 */
export async function* streamLogLines(
  stream: NodeJS.ReadableStream & { destroy?: () => void },
  multiplexed: boolean,
): AsyncGenerator<LogLine> {
  const splitter = new LogLineSplitter(multiplexed);
  try {
    for await (const chunk of stream) {
      yield* splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    }
    yield* splitter.end();
  } finally {
    stream.destroy?.();
  }
}
