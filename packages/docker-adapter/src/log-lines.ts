import type { LogLine } from '@hodei/domain';

const HEADER = 8;
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
    while (this.#frames.length >= HEADER) {
      const size = this.#frames.readUInt32BE(4);
      if (this.#frames.length < HEADER + size) break;
      const stream = STREAMS[this.#frames[0] ?? 0] ?? 'stdout';
      lines.push(...this.#text(stream, this.#frames.subarray(HEADER, HEADER + size)));
      this.#frames = this.#frames.subarray(HEADER + size);
    }
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
    this.#pending[stream] = parts.pop() ?? '';
    return parts.map((line) => ({ stream, line: line.endsWith('\r') ? line.slice(0, -1) : line }));
  }
}

/** The lines of a finished log read (`follow: false`, the whole body at once). */
export function logLinesOf(body: Buffer, multiplexed: boolean): LogLine[] {
  const splitter = new LogLineSplitter(multiplexed);
  return [...splitter.push(body), ...splitter.end()];
}

/** The lines of a followed log stream; breaking out of the loop closes the stream. */
export async function* followLogLines(
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
