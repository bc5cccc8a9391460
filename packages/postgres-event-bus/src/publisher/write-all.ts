import { writeSync } from 'node:fs';

/** The one fs call the spool writes with; a seam so tests can inject short writes. */
export type WriteFn = (fd: number, buffer: Uint8Array, offset: number, length: number) => number;

export const nodeWrite: WriteFn = (fd, buffer, offset, length) =>
  writeSync(fd, buffer, offset, length);

/**
 * Writes the whole buffer: `write(2)` may write fewer bytes than asked (a signal, a nearly
 * full disk), and a record cut short would glue onto the next one and fail its check.
 */
export function writeAll(fd: number, data: string | Uint8Array, write: WriteFn = nodeWrite): void {
  const buffer = typeof data === 'string' ? Buffer.from(data) : data;
  let offset = 0;
  while (offset < buffer.length) {
    const written = write(fd, buffer, offset, buffer.length - offset);
    if (written <= 0)
      throw new Error(`write returned ${written} with ${buffer.length - offset} bytes left`);
    offset += written;
  }
}
