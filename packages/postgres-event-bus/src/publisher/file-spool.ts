import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  ftruncateSync,
  renameSync,
  existsSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { LifecycleEvent } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import { acquireSpoolLock, type SpoolLock, type SpoolLocked } from './spool-lock.js';
import { nodeWrite, type WriteFn, writeAll } from './write-all.js';

export interface SpoolRecord {
  readonly seq: number;
  /** Epoch milliseconds when it was spooled. */
  readonly spooledAt: number;
  readonly event: LifecycleEvent;
}

export type SpoolError =
  | {
      readonly type: 'SpoolUnavailable';
      readonly message: string;
      readonly cause?: unknown;
    }
  | SpoolLocked;

export interface FileSpoolOptions {
  readonly fileName?: string;
  /** The write call (a seam for tests that inject short writes). */
  readonly write?: WriteFn;
}

export const DEFAULT_SPOOL_FILE = 'event-spool.log';

const spoolError = (
  message: string,
  cause: unknown,
): SpoolError & { type: 'SpoolUnavailable' } => ({
  type: 'SpoolUnavailable',
  message: `${message}: ${cause instanceof Error ? cause.message : String(cause)}`,
  cause,
});

/** `<kind> <byte length> <crc32 hex> <json>\n`: a torn or damaged line fails the check. */
function frame(kind: 'R' | 'A', body: string): string {
  const bytes = Buffer.from(body);
  return `${kind} ${bytes.length} ${crc32(bytes).toString(16)} ${body}\n`;
}

function parseLine(line: string): { kind: 'R' | 'A'; body: unknown } | null {
  const match = /^([RA]) (\d+) ([0-9a-f]+) (.*)$/s.exec(line);
  if (match === null) return null;
  const body = Buffer.from(match[4] ?? '');
  if (body.length !== Number(match[2]) || crc32(body).toString(16) !== match[3]) return null;
  try {
    return { kind: match[1] as 'R' | 'A', body: JSON.parse(body.toString('utf8')) as unknown };
  } catch {
    return null;
  }
}

/**
 * The durable local spool (SPEC §7): an append-only file of framed JSON lines, fsynced on
 * every append. Records are acknowledged by appending an ack line; when everything is
 * acknowledged the file is emptied. On open, a torn last line (a crash mid-write) is dropped
 * and the file is rewritten with just the records still pending.
 */
export class FileSpool {
  readonly path: string;
  readonly #lock: SpoolLock;
  readonly #write: WriteFn;
  #fd: number;
  #pending: SpoolRecord[];
  #nextSeq: number;
  #bytes: number;
  /** Lines that failed their check when the spool was opened. */
  readonly droppedOnOpen: number;

  private constructor(
    path: string,
    fd: number,
    pending: SpoolRecord[],
    dropped: number,
    bytes: number,
    lock: SpoolLock,
    write: WriteFn,
  ) {
    this.path = path;
    this.#lock = lock;
    this.#write = write;
    this.#fd = fd;
    this.#pending = pending;
    this.#nextSeq = (pending.at(-1)?.seq ?? 0) + 1;
    this.droppedOnOpen = dropped;
    this.#bytes = bytes;
  }

  /** The dead holder whose stale lock this open took over, if any (worth a log line). */
  get lockTakenOver(): SpoolLock['takenOver'] {
    return this.#lock.takenOver;
  }

  /**
   * Opens the spool exclusively: a second open while another live process holds it fails with
   * `SpoolLocked` (two writers would rewrite and truncate each other's file).
   */
  static open(
    directory: string,
    options: FileSpoolOptions | string = {},
  ): Result<FileSpool, SpoolError> {
    const opts = typeof options === 'string' ? { fileName: options } : options;
    const path = join(directory, opts.fileName ?? DEFAULT_SPOOL_FILE);
    const write = opts.write ?? nodeWrite;
    let lock: SpoolLock | undefined;
    try {
      mkdirSync(directory, { recursive: true });
      const taken = acquireSpoolLock(`${path}.lock`);
      if ('type' in taken) return err(taken);
      lock = taken;
      const records: SpoolRecord[] = [];
      let acked = 0;
      let dropped = 0;
      if (existsSync(path)) {
        const text = readFileSync(path, 'utf8');
        const lines = text.split('\n');
        // The piece after the last newline is a torn write (or empty).
        if ((lines.at(-1) ?? '') !== '') dropped += 1;
        for (const line of lines.slice(0, -1)) {
          const parsed = parseLine(line);
          if (parsed === null) {
            dropped += 1;
            continue;
          }
          const body = parsed.body as Record<string, unknown>;
          if (parsed.kind === 'A') acked = Math.max(acked, Number(body['upto']));
          else records.push(body as unknown as SpoolRecord);
        }
      }
      const pending = records.filter((r) => r.seq > acked).sort((a, b) => a.seq - b.seq);
      // Rewrite compactly through a temp file, so the live file never holds a torn line.
      const tmp = `${path}.tmp`;
      const tmpFd = openSync(tmp, 'w');
      let bytes = 0;
      for (const record of pending) {
        const line = frame('R', JSON.stringify(record));
        bytes += Buffer.byteLength(line);
        writeAll(tmpFd, line, write);
      }
      fsyncSync(tmpFd);
      closeSync(tmpFd);
      renameSync(tmp, path);
      FileSpool.#syncDirectory(directory);
      const fd = openSync(path, 'a');
      return ok(new FileSpool(path, fd, pending, dropped, bytes, lock, write));
    } catch (cause) {
      lock?.release();
      return err(spoolError(`cannot open the event spool at ${path}`, cause));
    }
  }

  static #syncDirectory(directory: string): void {
    try {
      const dirFd = openSync(directory, 'r');
      fsyncSync(dirFd);
      closeSync(dirFd);
    } catch {
      // Some filesystems refuse fsync on a directory; the rename is still atomic.
    }
  }

  get count(): number {
    return this.#pending.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get oldestSpooledAt(): number | null {
    return this.#pending[0]?.spooledAt ?? null;
  }

  /** The oldest pending records, in the order they were spooled. */
  peek(limit: number): readonly SpoolRecord[] {
    return this.#pending.slice(0, limit);
  }

  /** Appends and fsyncs; once this returns Ok the events survive a kill -9. */
  append(events: readonly LifecycleEvent[], now: number): Result<void, SpoolError> {
    const records = events.map((event, i) => ({ seq: this.#nextSeq + i, spooledAt: now, event }));
    const text = records.map((r) => frame('R', JSON.stringify(r))).join('');
    const written = this.#appendText(text);
    if (written.isErr()) return written;
    // Space is back: write the lock's holder record if a full disk refused it at open.
    this.#lock.record();
    this.#nextSeq += records.length;
    this.#bytes += Buffer.byteLength(text);
    this.#pending.push(...records);
    return ok(undefined);
  }

  /** Marks every record up to `seq` delivered; empties the file when nothing is left. */
  ack(seq: number): Result<void, SpoolError> {
    try {
      this.#pending = this.#pending.filter((r) => r.seq > seq);
      if (this.#pending.length === 0) {
        closeSync(this.#fd);
        this.#fd = openSync(this.path, 'w');
        fsyncSync(this.#fd);
        closeSync(this.#fd);
        this.#fd = openSync(this.path, 'a');
        this.#bytes = 0;
      } else {
        const line = frame('A', JSON.stringify({ upto: seq }));
        const written = this.#appendText(line);
        if (written.isErr()) return written;
        this.#bytes += Buffer.byteLength(line);
      }
      return ok(undefined);
    } catch (cause) {
      return err(spoolError(`cannot write the event spool at ${this.path}`, cause));
    }
  }

  /**
   * Writes and fsyncs whole lines. On failure (a full disk) the file is cut back to its last
   * whole line, so a record written in part cannot glue onto the next append.
   */
  #appendText(text: string): Result<void, SpoolError> {
    try {
      writeAll(this.#fd, text, this.#write);
      fsyncSync(this.#fd);
      return ok(undefined);
    } catch (cause) {
      try {
        ftruncateSync(this.#fd, this.#bytes);
      } catch {
        // The open-time check drops a torn line anyway.
      }
      return err(spoolError(`cannot write the event spool at ${this.path}`, cause));
    }
  }

  /** Closes the file and releases the lock. */
  close(): void {
    try {
      fsyncSync(this.#fd);
      closeSync(this.#fd);
    } catch {
      // Already closed.
    }
    try {
      this.#lock.release();
    } catch {
      // A lock file removed by hand is released already.
    }
  }
}
