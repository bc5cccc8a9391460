import type { LogLine } from '@hodei/domain';
import { describe, expect, it } from 'vitest';
import { capLogLines, truncatedLine } from './log-response.js';

const collect = async (lines: AsyncIterable<LogLine>): Promise<LogLine[]> => {
  const all: LogLine[] = [];
  for await (const line of lines) all.push(line);
  return all;
};

const out = (line: string): LogLine => ({ stream: 'stdout', line });

describe('capLogLines', () => {
  it('passes a log that fits, counting each line with its newline in UTF-8 bytes', async () => {
    async function* source(): AsyncGenerator<LogLine> {
      await Promise.resolve();
      yield out('é');
      yield out('ab');
    }
    expect(await collect(capLogLines(source(), 6))).toEqual([out('é'), out('ab')]);
  });

  it('ends with the truncation line at the cap and stops reading the source there', async () => {
    let read = 0;
    let closed = false;
    async function* source(): AsyncGenerator<LogLine> {
      try {
        for (;;) {
          await Promise.resolve();
          read += 1;
          yield out('0123456789');
        }
      } finally {
        closed = true;
      }
    }
    expect(await collect(capLogLines(source(), 25))).toEqual([
      out('0123456789'),
      out('0123456789'),
      truncatedLine(25),
    ]);
    expect(read).toBe(3);
    expect(closed).toBe(true);
  });
});
