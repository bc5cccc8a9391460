import type { ServerResponse } from 'node:http';

/** A frame as written: live frames are one Buffer shared by every client. */
export type Chunk = string | Buffer;

export interface SseClientOptions {
  /** Frames queued behind a full socket before the client counts as too slow and is dropped. */
  readonly maxQueuedFrames: number;
  /** Called once when the client is dropped for falling behind. */
  readonly onDropped?: (queued: number) => void;
}

/**
 * One SSE connection's writes, with backpressure: once `write()` says the socket is full,
 * frames wait in a bounded queue until `drain`; a client whose queue overflows is
 * disconnected (it resumes with `Last-Event-ID`) rather than buffered without limit. Live
 * frames sent in one synchronous run (a batch of events) go out as one write: one chunk and
 * one system call per client and batch, not per event.
 */
export class SseClient {
  readonly #response: ServerResponse;
  readonly #options: SseClientOptions;
  #queue: Chunk[] = [];
  /** Live frames of the current run, written together at its end. */
  #pending: Chunk[] = [];
  #full = false;
  #closed = false;
  #waiters: ((writable: boolean) => void)[] = [];

  constructor(response: ServerResponse, options: SseClientOptions) {
    this.#response = response;
    this.#options = options;
    response.on('drain', () => this.#onDrain());
    response.on('close', () => this.#onClose());
    // A write racing the peer's reset fails the socket; 'close' follows and does the cleanup.
    response.on('error', () => undefined);
  }

  /** A live frame: written now, or queued while the socket is full; overflowing drops the client. */
  send(frame: Chunk): void {
    if (this.#closed) return;
    if (!this.#full) {
      this.#pending.push(frame);
      if (this.#pending.length === 1) queueMicrotask(() => this.#flush());
      else if (this.#pending.length >= this.#options.maxQueuedFrames) this.#flush();
      return;
    }
    this.#queue.push(frame);
    if (this.#queue.length > this.#options.maxQueuedFrames) this.#drop();
  }

  /** A frame only worth sending to a keeping-up client (a heartbeat). */
  sendIfIdle(frame: string): void {
    this.#flush();
    if (!this.#closed && !this.#full) this.#write(frame);
  }

  /**
   * A page of catch-up frames in one write, outside the queue's bound: the catch-up waits for
   * `writable()` before it reads the next page, so at most one page is buffered.
   */
  writePage(frames: readonly Chunk[]): void {
    if (this.#closed || frames.length === 0) return;
    this.#flush();
    if (this.#full) this.#queue.push(...frames);
    else this.#write(joined(frames));
  }

  /**
   * Resolves true once everything written has been handed to the socket, false if it closed.
   * Past `stallMs` without that, the client is dropped: a reader that stopped must not hold
   * what it was given (a catch-up slot) for ever.
   */
  writable(stallMs: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (!this.#full) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#drop(), stallMs);
      this.#waiters.push((writable) => {
        clearTimeout(timer);
        resolve(writable);
      });
    });
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    if (this.#closed) return;
    if (this.#full) this.#queue.push(...pending);
    else this.#write(joined(pending));
  }

  #write(chunk: Chunk): void {
    if (this.#response.destroyed || this.#response.writableEnded) return;
    if (!this.#response.write(chunk)) this.#full = true;
  }

  #onDrain(): void {
    this.#full = false;
    if (this.#queue.length > 0) {
      // The queue is bounded, so it goes in one write; the socket says whether it is full again.
      const queue = this.#queue;
      this.#queue = [];
      this.#write(joined(queue));
    }
    if (!this.#full) this.#settle(true);
  }

  #onClose(): void {
    this.#closed = true;
    this.#queue = [];
    this.#pending = [];
    this.#settle(false);
  }

  #settle(writable: boolean): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve(writable);
  }

  #drop(): void {
    const queued = this.#queue.length + this.#pending.length;
    this.#queue = [];
    this.#pending = [];
    this.#closed = true;
    // Not end(): its final chunk would wait behind the very bytes the client is not reading.
    this.#response.destroy();
    this.#options.onDropped?.(queued);
    this.#settle(false);
  }
}

/** Chunks as one: strings joined, or one Buffer when any is a Buffer (a copy of a few KiB). */
function joined(chunks: readonly Chunk[]): Chunk {
  if (chunks.length === 1) return chunks[0] ?? '';
  if (chunks.every((c) => typeof c === 'string')) return chunks.join('');
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}
