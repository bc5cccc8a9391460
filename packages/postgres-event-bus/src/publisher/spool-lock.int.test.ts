import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../testing/index.js';
import { FileSpool } from './file-spool.js';

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, '..', 'testing', 'spooling-publisher.child.ts');
// Nothing listens on port 1: every append fails as unreachable, so every event is spooled.
const NOWHERE = 'postgres://postgres@127.0.0.1:1/postgres';

const node = (args: string[]): ChildProcess =>
  spawn(process.execPath, ['--import', 'tsx', script, NOWHERE, 'hodei_lock', ...args], {
    cwd: join(here, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });

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
