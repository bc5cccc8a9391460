import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import type { LifecycleEvent } from '@hodei/domain';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../testing/index.js';
import { FileSpool } from './file-spool.js';
import { startTokenOf } from './spool-lock.js';

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, '..', 'testing', 'spooling-publisher.child.ts');
// Nothing listens on port 1: every append fails as unreachable, so every event is spooled.
const NOWHERE = 'postgres://postgres@127.0.0.1:1/postgres';

const node = (args: string[]): ChildProcess =>
  spawn(process.execPath, ['--import', 'tsx', script, NOWHERE, 'hodei_lock', ...args], {
    cwd: join(here, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });

const event = (n: number): LifecycleEvent => ({
  eventId: `01950000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
  type: 'WorkerEphemeralBusy',
  occurredAt: new Date(Date.UTC(2025, 0, 1) + n).toISOString(),
  providerId: 'p-lock',
  workerId: 'w-lock',
  actor: 'gc',
});

/** Fills the filesystem until a write of one page fails. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const page = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, page);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOSPC') throw cause;
  } finally {
    closeSync(fd);
  }
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

describe('the event spool shared by two processes', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("refuses a second process naming the holder, and keeps the first's events after its kill -9", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hodei-lock-'));
    dirs.push(dir);
    const first = node([dir, 'publish', '50']);
    let acked = 0;
    first.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const last = /ok (\d+)\n?$/.exec(chunk.trimEnd());
      if (last?.[1] !== undefined) acked = Number(last[1]);
    });
    try {
      await waitUntil(() => acked === 50, 'the first process to spool 50 events', 60_000);
      const second = node([dir, 'replay']);
      let err = '';
      second.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      expect(await exited(second)).toBe(3);
      expect(err).toContain('refused SpoolLocked');
      expect(err).toContain(`pid ${first.pid} on ${hostname()}`);
      expect(err).toContain(join(dir, 'event-spool.log.lock'));
    } finally {
      first.kill('SIGKILL');
    }
    await exited(first);
    const spool = FileSpool.open(dir)._unsafeUnwrap();
    expect(spool.lockTakenOver).toMatchObject({ pid: first.pid, hostname: hostname() });
    const numbers = spool.peek(1_000).map((r) => Number.parseInt(r.event.eventId.slice(-12), 16));
    expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    spool.close();
  });
});

describe('the event spool lock on a full data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hodei-lockfull-'));
  let mounted = false;
  afterAll(() => {
    if (mounted) execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens an empty and a fully acknowledged spool without writing, refuses appends, and records the holder once space is back', () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    mounted = true;
    const empty = join(dir, 'empty');
    const acked = join(dir, 'acked');
    mkdirSync(empty);
    const spool = FileSpool.open(acked)._unsafeUnwrap();
    spool.append([event(1), event(2)], 1)._unsafeUnwrap();
    spool.close();
    // A crash after the last ack line but before the file was emptied.
    const ack = JSON.stringify({ upto: 2 });
    appendFileSync(
      join(acked, 'event-spool.log'),
      `A ${ack.length} ${crc32(ack).toString(16)} ${ack}\n`,
    );
    fill(join(dir, 'filler-1'));
    const opened: FileSpool[] = [];
    try {
      const second = FileSpool.open(acked)._unsafeUnwrap();
      opened.push(second);
      expect(second.count).toBe(0);
      // Emptying that spool freed its pages: fill again.
      fill(join(dir, 'filler-2'));
      const first = FileSpool.open(empty)._unsafeUnwrap();
      opened.push(first);
      const refused = first.append([event(3)], 3);
      expect(refused.isErr() && refused.error.message).toContain('ENOSPC');
      const again = FileSpool.open(empty);
      expect(again.isErr() && again.error.type).toBe('SpoolLocked');
      expect(readdirSync(empty).sort()).toEqual(['event-spool.log', 'event-spool.log.lock']);
      expect(readdirSync(acked).sort()).toEqual(['event-spool.log', 'event-spool.log.lock']);

      rmSync(join(dir, 'filler-1'));
      rmSync(join(dir, 'filler-2'));
      first.append([event(4)], 4)._unsafeUnwrap();
      expect(JSON.parse(readFileSync(join(empty, 'event-spool.log.lock'), 'utf8'))).toMatchObject({
        pid: process.pid,
        hostname: hostname(),
        startToken: startTokenOf(process.pid),
      });
    } finally {
      for (const s of opened) s.close();
    }
    expect(existsSync(join(empty, 'event-spool.log.lock'))).toBe(false);
  });
});

describe('telling a live holder from a dead one', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const withLock = (record: string): string => {
    const d = mkdtempSync(join(tmpdir(), 'hodei-lockpid-'));
    dirs.push(d);
    writeFileSync(join(d, 'event-spool.log.lock'), record);
    return d;
  };
  const me = { pid: process.pid, hostname: hostname(), since: '2025-01-01T00:00:00.000Z' };

  it('takes over a lock left with its own pid by an earlier process (a restarted container)', () => {
    for (const record of [{ ...me, startToken: 'another-boot:1' }, me]) {
      const spool = FileSpool.open(withLock(JSON.stringify(record)))._unsafeUnwrap();
      expect(spool.lockTakenOver).toEqual(record);
      spool.close();
    }
  });

  it('takes over a dead holder whose pid now runs another process, not the process still running', async () => {
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(other);
    await waitUntil(() => startTokenOf(other.pid ?? 0) !== null, 'the other process to start');
    const reused = { ...me, pid: other.pid ?? 0, startToken: 'another-boot:1' };
    const spool = FileSpool.open(withLock(JSON.stringify(reused)))._unsafeUnwrap();
    expect(spool.lockTakenOver).toEqual(reused);
    spool.close();
    const live = { ...reused, startToken: startTokenOf(other.pid ?? 0) };
    const refused = FileSpool.open(withLock(JSON.stringify(live)));
    expect(refused.isErr() && refused.error).toMatchObject({ type: 'SpoolLocked', holder: live });
    // A record without a token, from before tokens were stored: decided by its time.
    const legacy = { ...me, pid: other.pid ?? 0 };
    const older = FileSpool.open(withLock(JSON.stringify(legacy)))._unsafeUnwrap();
    expect(older.lockTakenOver).toEqual(legacy);
    older.close();
    const recent = { ...legacy, since: new Date(Date.now() + 60_000).toISOString() };
    const held = FileSpool.open(withLock(JSON.stringify(recent)));
    expect(held.isErr() && held.error).toMatchObject({ type: 'SpoolLocked', holder: recent });
  });

  it('counts an empty record as held for a short grace, then as stale', () => {
    const d = withLock('');
    const refused = FileSpool.open(d);
    expect(refused.isErr() && refused.error).toMatchObject({
      type: 'SpoolLocked',
      holder: { recorded: false },
    });
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(d, 'event-spool.log.lock'), old, old);
    const since = new Date(statSync(join(d, 'event-spool.log.lock')).mtimeMs).toISOString();
    const spool = FileSpool.open(d)._unsafeUnwrap();
    expect(spool.lockTakenOver).toEqual({ recorded: false, since });
    spool.close();
  });
});
