import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';

/** Who holds a spool: enough for an operator to find the other server. */
export interface SpoolLockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** ISO time the holder took the lock. */
  readonly since: string;
  /**
   * Tells this holder apart from a later process given the same pid (a container restarted
   * as PID 1, a reused pid): the boot id and the process's start time. Absent where `/proc`
   * is not there, and in records written before it existed.
   */
  readonly startToken?: string;
}

/**
 * A lock file whose record is empty or cut short: its holder died between creating it and
 * writing the record, or could not write it (a full disk).
 */
export interface SpoolLockUnrecorded {
  readonly recorded: false;
  /** ISO time the lock file was last written. */
  readonly since: string;
}

/** The spool is held by another live process; a second server must not start on it. */
export interface SpoolLocked {
  readonly type: 'SpoolLocked';
  readonly message: string;
  /** The lock file. */
  readonly path: string;
  readonly holder: SpoolLockHolder | SpoolLockUnrecorded;
}

export interface SpoolLock {
  readonly path: string;
  /** The dead holder whose stale lock was taken over, if any. */
  readonly takenOver: SpoolLockHolder | SpoolLockUnrecorded | null;
  /** Writes the holder's record if it could not be written yet (the disk was full). */
  record(): void;
  release(): void;
}

/**
 * How long an unrecorded lock counts as held: the moment between its creation and its record,
 * for a holder that is alive. Past it the holder is taken to be gone (or on a full disk).
 */
export const UNRECORDED_GRACE_MS = 10_000;

/** Lock files this process holds, by `dev:ino`: a second open in one process is refused. */
const heldHere = new Set<string>();

const fileKey = (s: { dev: number; ino: number }): string => `${s.dev}:${s.ino}`;

const spoolLocked = (path: string, holder: SpoolLockHolder | SpoolLockUnrecorded): SpoolLocked => ({
  type: 'SpoolLocked',
  message:
    ('pid' in holder
      ? `the event spool is locked by pid ${holder.pid} on ${holder.hostname} since ${holder.since}`
      : `the event spool is locked by a process that has not recorded itself yet (since ${holder.since})`) +
    ` (${path}); another server uses this data directory`,
  path,
  holder,
});

/** A running pid's boot id and start time (clock ticks since boot), or null when not known. */
function processStart(pid: number): { boot: string; ticks: number } | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count from its closing parenthesis, after
    // which field 3 comes first and the start time is field 22.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isInteger(ticks) ? { boot, ticks } : null;
  } catch {
    return null;
  }
}

/** `<boot id>:<start time in clock ticks>` of a running pid, or null when not known. */
export function startTokenOf(pid: number): string | null {
  const start = processStart(pid);
  return start === null ? null : `${start.boot}:${start.ticks}`;
}

/** Linux reports process start times in units of 100 Hz (USER_HZ) on every architecture. */
const USER_HZ = 100;
/** Slack for clock steps when comparing a record's wall time with a process's start. */
const CLOCK_SLACK_MS = 2_000;

/**
 * For records without a start token (written by earlier versions): the process now running
 * under the pid started after the record was written, so it is not the holder.
 */
function startedAfter(pid: number, since: string): boolean {
  const start = processStart(pid);
  const at = Date.parse(since);
  if (start === null || Number.isNaN(at)) return false;
  try {
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isInteger(btime)) return false;
    return btime * 1000 + (start.ticks * 1000) / USER_HZ > at + CLOCK_SLACK_MS;
  } catch {
    return false;
  }
}

interface Found {
  readonly holder: SpoolLockHolder | SpoolLockUnrecorded;
  readonly key: string;
  readonly mtimeMs: number;
}

function readHolder(path: string): Found | null {
  let text: string;
  let key: string;
  let mtimeMs: number;
  try {
    const s = statSync(path);
    key = fileKey(s);
    mtimeMs = s.mtimeMs;
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw cause;
  }
  const unrecorded = { recorded: false, since: new Date(mtimeMs).toISOString() } as const;
  try {
    const body = JSON.parse(text) as Partial<SpoolLockHolder>;
    if (typeof body.pid !== 'number' || typeof body.hostname !== 'string') {
      return { holder: unrecorded, key, mtimeMs };
    }
    const holder: SpoolLockHolder = {
      pid: body.pid,
      hostname: body.hostname,
      since: String(body.since),
      ...(typeof body.startToken === 'string' ? { startToken: body.startToken } : {}),
    };
    return { holder, key, mtimeMs };
  } catch {
    return { holder: unrecorded, key, mtimeMs };
  }
}

/** A pid that answers signal 0 (or refuses it, EPERM) is running. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    return (cause as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Only a holder known to be dead is stale: on this host, and either this process's pid
 * without this process holding the file (an earlier life of a restarted container), or a pid
 * that is not running, or one now running with another start token (the pid was reused; for
 * a record without a token, a process started after the record was written).
 */
function stale(found: Found): boolean {
  const { holder } = found;
  if (!('pid' in holder)) return Date.now() - found.mtimeMs > UNRECORDED_GRACE_MS;
  if (holder.hostname !== hostname()) return false;
  if (holder.pid === process.pid) return !heldHere.has(found.key);
  if (!running(holder.pid)) return true;
  if (holder.startToken === undefined) return startedAfter(holder.pid, holder.since);
  const now = startTokenOf(holder.pid);
  return now !== null && now !== holder.startToken;
}

/** Writes the record from the start of the file; false when the disk refuses it. */
function writeRecord(fd: number, me: SpoolLockHolder): boolean {
  try {
    ftruncateSync(fd, 0);
    const bytes = Buffer.from(JSON.stringify(me));
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
    fsyncSync(fd);
    return true;
  } catch {
    // Best effort: a reader treats an empty or partial record as held for a short grace.
    return false;
  }
}

/** Creates the lock file with `O_EXCL`, taking over a stale one; null when it is held. */
function create(path: string): {
  fd: number;
  takenOver: SpoolLock['takenOver'];
  locked: SpoolLocked | null;
} {
  let takenOver: SpoolLock['takenOver'] = null;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return { fd: openSync(path, 'wx'), takenOver, locked: null };
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw cause;
    }
    const found = readHolder(path);
    if (found === null) continue; // released meanwhile
    if (!stale(found)) return { fd: -1, takenOver, locked: spoolLocked(path, found.holder) };
    takenOver = found.holder;
    unlinkSync(path);
  }
}

/**
 * Takes the spool's lock file. Taking it writes no data (an `O_EXCL` create needs an inode,
 * not a block), so a server on a full disk still starts and refuses writes instead; the
 * holder's record is written into the file afterwards, best effort, and again by `record()`.
 * Throws only on I/O failures.
 */
export function acquireSpoolLock(path: string): SpoolLock | SpoolLocked {
  const me: SpoolLockHolder = {
    pid: process.pid,
    hostname: hostname(),
    since: new Date().toISOString(),
    ...((token) => (token === null ? {} : { startToken: token }))(startTokenOf(process.pid)),
  };
  const { fd, takenOver, locked } = create(path);
  if (locked !== null) return locked;
  let key: string;
  try {
    key = fileKey(fstatSync(fd));
  } catch (cause) {
    closeSync(fd);
    unlinkSync(path);
    throw cause;
  }
  heldHere.add(key);
  let recorded = writeRecord(fd, me);
  let released = false;
  return {
    path,
    takenOver,
    record: () => {
      if (!recorded && !released) recorded = writeRecord(fd, me);
    },
    release: () => {
      if (released) return;
      released = true;
      heldHere.delete(key);
      closeSync(fd);
      // Remove only our own file: after a takeover by mistake the name may be another's.
      const now = readHolder(path);
      if (now?.key === key) unlinkSync(path);
    },
  };
}
