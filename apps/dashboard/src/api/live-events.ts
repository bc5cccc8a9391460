import type { CloudEvent } from './types';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface LiveListener {
  readonly event?: (event: CloudEvent) => void;
  /** The server could not replay what was missed: list again. */
  readonly reset?: () => void;
  readonly status?: (status: LiveStatus) => void;
}

const TYPE_PREFIX = 'io.hodei.lifecycle.';

/** `WorkerEphemeralReady` of `io.hodei.lifecycle.WorkerEphemeralReady`. */
export const shortType = (event: CloudEvent): string =>
  event.type.startsWith(TYPE_PREFIX) ? event.type.slice(TYPE_PREFIX.length) : event.type;

/** The provider of an event: its source is `/hodei/providers/<id>`. */
export const providerOf = (event: CloudEvent): string =>
  event.source.slice(event.source.lastIndexOf('/') + 1);

function parseEvent(data: string): CloudEvent | null {
  try {
    const value = JSON.parse(data) as unknown;
    if (typeof value !== 'object' || value === null) return null;
    const e = value as Partial<CloudEvent>;
    return typeof e.id === 'string' && typeof e.type === 'string' && typeof e.time === 'string'
      ? (value as CloudEvent)
      : null;
  } catch {
    return null;
  }
}

/** What `GET /v1/session` says after the stream broke: still signed in, not, or no answer. */
export type SessionCheck = 'valid' | 'signedOut' | 'unreachable';

/** The first wait before reopening a broken stream; doubled each failure up to the last. */
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30_000;

/**
 * One `EventSource` on `/v1/events` for the whole page (the session cookie authenticates it),
 * shared by every view. When it breaks (a restart, a sign-out elsewhere, an expired session)
 * the browser's own retry would meet a 401 and stop for good, so it is closed and the session
 * asked: signed out, `onSignedOut`; else it is reopened with a growing wait, and every view
 * told to list again (`reset`), since events may have been missed.
 */
export class LiveEvents {
  private source: EventSource | null = null;
  private readonly listeners = new Set<LiveListener>();
  private current: LiveStatus = 'closed';
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by open and close: a late check of an older stream changes nothing. */
  private generation = 0;

  constructor(
    private readonly checkSession: () => Promise<SessionCheck>,
    private readonly onSignedOut: () => void,
  ) {}

  get status(): LiveStatus {
    return this.current;
  }

  open(): void {
    if (this.source !== null || this.retryTimer !== null) return;
    this.generation++;
    this.connect(false);
  }

  close(): void {
    this.generation++;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.source?.close();
    this.source = null;
    this.setStatus('closed');
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private connect(afterBreak: boolean): void {
    const generation = this.generation;
    const source = new EventSource('/v1/events');
    this.source = source;
    this.setStatus(afterBreak ? 'reconnecting' : 'connecting');
    source.onopen = () => {
      this.retryMs = FIRST_RETRY_MS;
      this.setStatus('live');
      if (afterBreak) for (const l of this.listeners) l.reset?.();
    };
    source.onerror = () => {
      if (this.source !== source) return;
      source.close();
      this.source = null;
      this.setStatus('reconnecting');
      void this.recover(generation);
    };
    source.onmessage = (message: MessageEvent<string>) => {
      const event = parseEvent(message.data);
      if (event === null) return;
      for (const l of this.listeners) l.event?.(event);
    };
    source.addEventListener('reset', () => {
      for (const l of this.listeners) l.reset?.();
    });
  }

  /** After a break: signed out, or reopen after a wait that grows while it keeps failing. */
  private async recover(generation: number): Promise<void> {
    const check = await this.checkSession();
    if (generation !== this.generation) return;
    if (check === 'signedOut') {
      this.close();
      this.onSignedOut();
      return;
    }
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, LAST_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (generation === this.generation) this.connect(true);
    }, wait);
  }

  private setStatus(status: LiveStatus): void {
    this.current = status;
    for (const l of this.listeners) l.status?.(status);
  }
}
