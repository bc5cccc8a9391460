import { describe, expect, it } from 'vitest';
import { LineSplitter, LogBuffer } from './log-buffer';

describe('LogBuffer', () => {
  it('keeps at most its characters, dropping the oldest lines first', () => {
    const buffer = new LogBuffer(20, 1000);
    buffer.push(['aaaa', 'bbbb', 'cccc']);
    buffer.push(['dddd', 'eeee']);
    expect(buffer.size).toBeLessThanOrEqual(20);
    expect(buffer.text()).toBe('bbbb\ncccc\ndddd\neeee');
    buffer.push(['f'.repeat(100)]);
    expect(buffer.size).toBeLessThanOrEqual(20);
    expect(buffer.text()).toBe('f'.repeat(19));
  });

  it('keeps at most its lines', () => {
    const buffer = new LogBuffer(1000, 2);
    buffer.push(['1', '2', '3']);
    expect(buffer.text()).toBe('2\n3');
  });

  it('stays bounded across many pushes', () => {
    const buffer = new LogBuffer(1000, 100_000);
    for (let i = 0; i < 10_000; i++) buffer.push([`line ${i}`]);
    expect(buffer.size).toBeLessThanOrEqual(1000);
    expect(buffer.text().endsWith('line 9999')).toBe(true);
  });
});

describe('LineSplitter', () => {
  it('splits lines across chunks and holds the partial one', () => {
    const s = new LineSplitter();
    expect(s.feed('a\nb')).toEqual(['a']);
    expect(s.feed('c\nd\n')).toEqual(['bc', 'd']);
    expect(s.end()).toEqual([]);
  });

  it('never holds a partial line longer than its bound', () => {
    const s = new LineSplitter(4);
    expect(s.feed('0123456789')).toEqual(['0123', '4567']);
    expect(s.feed('ab\n')).toEqual(['89ab']);
    expect(s.feed('xy')).toEqual([]);
    expect(s.end()).toEqual(['xy']);
  });
});
