import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who holds a spool: enough for an operator to find the other server. */
export interface SpoolLockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** ISO time the holder took the lock. */
  readonly since: string;
}

/** The spool is held by another live process; a second server must not start on it. */
export interface SpoolLocked {
  readonly type: 'SpoolLocked';
  readonly message: string;
  /** The lock file. */
  readonly path: string;
  readonly holder: SpoolLockHolder;
}

export interface SpoolLock {
  readonly path: string;
  /** The dead holder whose stale lock was taken over, if any. */
  readonly takenOver: SpoolLockHolder | null;
  release(): void;
}

const spoolLocked = (path: string, holder: SpoolLockHolder): SpoolLocked => ({
  type: 'SpoolLocked',
  message:
    `the event spool is locked by pid ${holder.pid} on ${holder.hostname} since ${holder.since}` +
    ` (${path}); another server uses this data directory`,
  path,
  holder,
});

function readHolder(path: string): SpoolLockHolder | null {
  try {
    const body = JSON.parse(readFileSync(path, 'utf8')) as Partial<SpoolLockHolder>;
    if (typeof body.pid !== 'number' || typeof body.hostname !== 'string') return null;
    return { pid: body.pid, hostname: body.hostname, since: String(body.since) };
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw cause;
  }
}

/** A pid that answers signal 0 (or refuses it, EPERM) is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    return (cause as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Only a holder on this host whose pid is gone is known to be dead. */
const stale = (holder: SpoolLockHolder): boolean =>
  holder.hostname === hostname() && holder.pid !== process.pid && !alive(holder.pid);

/**
 * Takes the spool's lock file. The holder's record is written to a private file first and
 * then hard-linked into place: `link(2)` fails if the name exists (like `O_EXCL`), and the
 * lock file is never seen half-written. Throws only on I/O failures.
 */
export function acquireSpoolLock(path: string): SpoolLock | SpoolLocked {
  const me: SpoolLockHolder = {
    pid: process.pid,
    hostname: hostname(),
    since: new Date().toISOString(),
  };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(me));
  let takenOver: SpoolLockHolder | null = null;
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        linkSync(tmp, path);
        break;
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw cause;
      }
      const holder = readHolder(path);
      if (holder === null) continue; // released meanwhile
      if (!stale(holder)) return spoolLocked(path, holder);
      takenOver = holder;
      unlinkSync(path);
    }
  } finally {
    unlinkSync(tmp);
  }
  let released = false;
  return {
    path,
    takenOver,
    release: () => {
      if (released) return;
      released = true;
      const holder = readHolder(path);
      if (holder?.pid === me.pid && holder.hostname === me.hostname) unlinkSync(path);
    },
  };
}
