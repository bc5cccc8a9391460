import type { ServerResponse } from 'node:http';

export interface SseClientOptions {
  /** Frames queued behind a full socket before the client counts as too slow and is dropped. */
  readonly maxQueuedFrames: number;
  /** Called once when the client is dropped for falling behind. */
  readonly onDropped?: (queued: number) => void;
}

/**
 * One SSE connection's writes, with backpressure: once `write()` says the socket is full,
 * frames wait in a bounded queue until `drain`; a client whose queue overflows is
 * disconnected (it resumes with `Last-Event-ID`) rather than buffered without limit.
 */
export class SseClient {
  readonly #response: ServerResponse;
  readonly #options: SseClientOptions;
  #queue: string[] = [];
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
  send(frame: string): void {
    if (this.#closed) return;
    if (!this.#full) {
      this.#write(frame);
      return;
    }
    this.#queue.push(frame);
    if (this.#queue.length > this.#options.maxQueuedFrames) this.#drop();
  }

  /** A frame only worth sending to a keeping-up client (a heartbeat). */
  sendIfIdle(frame: string): void {
    if (!this.#closed && !this.#full) this.#write(frame);
  }

  /**
   * A page of catch-up frames in one write, outside the queue's bound: the catch-up waits for
   * `writable()` before it reads the next page, so at most one page is buffered.
   */
  writePage(frames: readonly string[]): void {
    if (this.#closed || frames.length === 0) return;
    if (this.#full) this.#queue.push(...frames);
    else this.#write(frames.join(''));
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

  #write(chunk: string): void {
    if (this.#response.destroyed || this.#response.writableEnded) return;
    if (!this.#response.write(chunk)) this.#full = true;
  }

  #onDrain(): void {
    this.#full = false;
    if (this.#queue.length > 0) {
      // The queue is bounded, so it goes in one write; the socket says whether it is full again.
      const chunk = this.#queue.join('');
      this.#queue = [];
      this.#write(chunk);
    }
    if (!this.#full) this.#settle(true);
  }

  #onClose(): void {
    this.#closed = true;
    this.#queue = [];
    this.#settle(false);
  }

  #settle(writable: boolean): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve(writable);
  }

  #drop(): void {
    const queued = this.#queue.length;
    this.#queue = [];
    this.#closed = true;
    // Not end(): its final chunk would wait behind the very bytes the client is not reading.
    this.#response.destroy();
    this.#options.onDropped?.(queued);
    this.#settle(false);
  }
}
