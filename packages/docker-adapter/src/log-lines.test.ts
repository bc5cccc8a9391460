import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LogLineSplitter, MAX_LINE_CHARS, streamLogLines } from './log-lines.js';

const frame = (stream: 1 | 2, text: string): Buffer => {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

const logLinesOf = (body: Buffer, multiplexed: boolean) => {
  const splitter = new LogLineSplitter(multiplexed);
  return [...splitter.push(body), ...splitter.end()];
};

describe('LogLineSplitter', () => {
  it('demultiplexes stdout and stderr frames into lines', () => {
    const body = Buffer.concat([frame(1, 'out one\nout two\n'), frame(2, 'err one\n')]);
    expect(logLinesOf(body, true)).toEqual([
      { stream: 'stdout', line: 'out one' },
      { stream: 'stdout', line: 'out two' },
      { stream: 'stderr', line: 'err one' },
    ]);
  });

  it('joins frames and lines split across chunks, including a split header and character', () => {
    const body = Buffer.concat([frame(1, 'hé'), frame(1, 'llo\nlast')]);
    const splitter = new LogLineSplitter(true);
    const lines = [3, 9, 12, body.length].flatMap((end, i, ends) =>
      splitter.push(body.subarray(i === 0 ? 0 : ends[i - 1], end)),
    );
    expect([...lines, ...splitter.end()]).toEqual([
      { stream: 'stdout', line: 'héllo' },
      { stream: 'stdout', line: 'last' },
    ]);
  });

  it('reads a TTY log as plain stdout text', () => {
    expect(logLinesOf(Buffer.from('a\r\nb\n'), false)).toEqual([
      { stream: 'stdout', line: 'a' },
      { stream: 'stdout', line: 'b' },
    ]);
  });
});

describe('LogLineSplitter limits', () => {
  it('cuts a line longer than the maximum into pieces as it arrives, holding no more', () => {
    const splitter = new LogLineSplitter(true);
    const first = splitter.push(frame(1, 'x'.repeat(MAX_LINE_CHARS * 2 + 5)));
    expect(first.map((l) => l.line.length)).toEqual([MAX_LINE_CHARS, MAX_LINE_CHARS]);
    expect(splitter.push(frame(1, 'y\n'))).toEqual([{ stream: 'stdout', line: 'xxxxxy' }]);
  });
});

describe('streamLogLines', () => {
  it('yields lines as chunks arrive and closes the stream when the reader stops', async () => {
    const stream = Readable.from([frame(1, 'one\n'), frame(2, 'two\n'), frame(1, 'three\n')]);
    const seen: string[] = [];
    for await (const line of streamLogLines(stream, true)) {
      seen.push(line.line);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(['one', 'two']);
    expect(stream.destroyed).toBe(true);
  });

  it('yields the first lines of a long log before the rest has been read', async () => {
    let produced = 0;
    const stream = Readable.from(
      (function* () {
        for (;;) {
          produced += 1;
          yield frame(1, `line ${produced}\n`);
        }
      })(),
      { highWaterMark: 4 },
    );
    const seen: string[] = [];
    for await (const line of streamLogLines(stream, true)) {
      seen.push(line.line);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['line 1', 'line 2', 'line 3']);
    expect(produced).toBeLessThan(100);
  });
});
