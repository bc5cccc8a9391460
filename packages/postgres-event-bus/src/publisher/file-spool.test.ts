import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleEvents } from '@hodei/domain/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSpool } from './file-spool.js';

describe('FileSpool', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'hodei-spool-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps appended events across a reopen, in order', () => {
    const d = dir();
    const events = sampleEvents('p', 'w');
    const spool = FileSpool.open(d)._unsafeUnwrap();
    spool.append(events.slice(0, 4), 1_000)._unsafeUnwrap();
    spool.append(events.slice(4), 2_000)._unsafeUnwrap();
    spool.close();
    const again = FileSpool.open(d)._unsafeUnwrap();
    expect(again.peek(100).map((r) => r.event)).toEqual(events);
    expect(again.oldestSpooledAt).toBe(1_000);
    again.close();
  });

  it('drops a torn last line and keeps every complete record before it', () => {
    const d = dir();
    const events = sampleEvents('p', 'w');
    const spool = FileSpool.open(d)._unsafeUnwrap();
    spool.append(events.slice(0, 3), 1)._unsafeUnwrap();
    spool.close();
    appendFileSync(join(d, 'event-spool.log'), 'R 9999 deadbeef {"seq":4,"spo');
    const again = FileSpool.open(d)._unsafeUnwrap();
    expect(again.droppedOnOpen).toBe(1);
    expect(again.peek(10).map((r) => r.event)).toEqual(events.slice(0, 3));
    again.append(events.slice(3, 4), 2)._unsafeUnwrap();
    again.close();
    const third = FileSpool.open(d)._unsafeUnwrap();
    expect(third.droppedOnOpen).toBe(0);
    expect(third.peek(10).map((r) => r.event)).toEqual(events.slice(0, 4));
    third.close();
  });

  it('drops a complete line whose checksum does not match', () => {
    const d = dir();
    const spool = FileSpool.open(d)._unsafeUnwrap();
    spool.append(sampleEvents('p', 'w').slice(0, 2), 1)._unsafeUnwrap();
    spool.close();
    const path = join(d, 'event-spool.log');
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[1] = (lines[1] ?? '').replace('"seq":2', '"seq":7');
    writeFileSync(path, lines.join('\n'));
    const again = FileSpool.open(d)._unsafeUnwrap();
    expect(again.count).toBe(1);
    expect(again.droppedOnOpen).toBe(1);
    again.close();
  });

  it('forgets acknowledged records, and empties the file when all are acknowledged', () => {
    const d = dir();
    const events = sampleEvents('p', 'w');
    const spool = FileSpool.open(d)._unsafeUnwrap();
    spool.append(events.slice(0, 5), 1)._unsafeUnwrap();
    const seqs = spool.peek(5).map((r) => r.seq);
    spool.ack(seqs[1]!)._unsafeUnwrap();
    spool.close();
    const again = FileSpool.open(d)._unsafeUnwrap();
    expect(again.peek(10).map((r) => r.event)).toEqual(events.slice(2, 5));
    again.ack(again.peek(10).at(-1)!.seq)._unsafeUnwrap();
    expect(again.count).toBe(0);
    expect(readFileSync(join(d, 'event-spool.log'), 'utf8')).toBe('');
    again.close();
  });
});
