import type { DestinationStream } from 'pino';

/** A pino destination that keeps what it is given, for tests of code that logs. */
export class MemoryDestination implements DestinationStream {
  readonly chunks: string[] = [];

  write(msg: string): void {
    this.chunks.push(msg);
  }

  /** Everything written, as one string of JSON lines. */
  text(): string {
    return this.chunks.join('');
  }

  clear(): void {
    this.chunks.length = 0;
  }
}
