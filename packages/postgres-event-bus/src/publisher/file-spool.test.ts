import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleEvents } from '@hodei/domain/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSpool } from './file-spool.js';
import type { WriteFn } from './write-all.js';

/** Writes at most `max` bytes per call, as `write(2)` may. */
const shortWrites =
  (max: number): WriteFn =>
  (fd, buffer, offset, length) =>
    writeSync(fd, buffer, offset, Math.min(length, max));

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

  it('writes every byte of a record although each write call takes only a few', () => {
    const d = dir();
    const events = sampleEvents('p', 'w');
    const spool = FileSpool.open(d, { write: shortWrites(7) })._unsafeUnwrap();
    spool.append(events.slice(0, 3), 1)._unsafeUnwrap();
    spool.append(events.slice(3), 2)._unsafeUnwrap();
    spool.close();
    const again = FileSpool.open(d)._unsafeUnwrap();
    expect(again.droppedOnOpen).toBe(0);
    expect(again.peek(100).map((r) => r.event)).toEqual(events);
    again.close();
  });

  it('cuts a record that a full disk stopped halfway, so the next append stays whole', () => {
    const d = dir();
    const events = sampleEvents('p', 'w');
    let full = false;
    const write: WriteFn = (fd, buffer, offset, length) => {
      if (!full) return writeSync(fd, buffer, offset, length);
      full = false;
      writeSync(fd, buffer, offset, Math.ceil(length / 2));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const spool = FileSpool.open(d, { write })._unsafeUnwrap();
    spool.append(events.slice(0, 2), 1)._unsafeUnwrap();
    full = true;
    const failed = spool.append(events.slice(2, 3), 2);
    expect(failed.isErr() && failed.error.message).toContain('ENOSPC');
    spool.append(events.slice(3, 4), 3)._unsafeUnwrap();
    spool.close();
    const again = FileSpool.open(d)._unsafeUnwrap();
    expect(again.droppedOnOpen).toBe(0);
    expect(again.peek(10).map((r) => r.event)).toEqual([...events.slice(0, 2), events[3]]);
    again.close();
  });

  it('refuses a second open while the first holds it, naming the holder, and frees it on close', () => {
    const d = dir();
    const first = FileSpool.open(d)._unsafeUnwrap();
    const second = FileSpool.open(d);
    const lock = join(d, 'event-spool.log.lock');
    expect(second.isErr() && second.error).toMatchObject({
      type: 'SpoolLocked',
      path: lock,
      holder: { pid: process.pid, hostname: hostname() },
    });
    expect(second.isErr() && second.error.message).toContain(`pid ${process.pid}`);
    first.close();
    expect(existsSync(lock)).toBe(false);
    const third = FileSpool.open(d)._unsafeUnwrap();
    expect(third.lockTakenOver).toBeNull();
    third.close();
  });

  it('takes over the lock of a process on this host that is gone', () => {
    const d = dir();
    const gone = spawnSync(process.execPath, ['-e', 'process.pid']).pid;
    const since = '2025-01-01T00:00:00.000Z';
    writeFileSync(
      join(d, 'event-spool.log.lock'),
      JSON.stringify({ pid: gone, hostname: hostname(), since }),
    );
    const spool = FileSpool.open(d)._unsafeUnwrap();
    expect(spool.lockTakenOver).toEqual({ pid: gone, hostname: hostname(), since });
    spool.close();
  });

  it('does not take over a lock held on another host', () => {
    const d = dir();
    const holder = { pid: 1, hostname: `not-${hostname()}`, since: '2025-01-01T00:00:00.000Z' };
    writeFileSync(join(d, 'event-spool.log.lock'), JSON.stringify(holder));
    const spool = FileSpool.open(d);
    expect(spool.isErr() && spool.error).toMatchObject({ type: 'SpoolLocked', holder });
  });
});
