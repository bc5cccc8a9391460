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

/**
 * One `EventSource` on `/v1/events` for the whole page (the session cookie authenticates it),
 * shared by every view. The browser reconnects by itself and resumes with `Last-Event-ID`.
 */
export class LiveEvents {
  private source: EventSource | null = null;
  private readonly listeners = new Set<LiveListener>();
  private current: LiveStatus = 'closed';

  get status(): LiveStatus {
    return this.current;
  }

  open(): void {
    if (this.source !== null) return;
    const source = new EventSource('/v1/events');
    this.source = source;
    this.setStatus('connecting');
    source.onopen = () => this.setStatus('live');
    source.onerror = () =>
      this.setStatus(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    source.onmessage = (message: MessageEvent<string>) => {
      const event = parseEvent(message.data);
      if (event === null) return;
      for (const l of this.listeners) l.event?.(event);
    };
    source.addEventListener('reset', () => {
      for (const l of this.listeners) l.reset?.();
    });
  }

  close(): void {
    this.source?.close();
    this.source = null;
    this.setStatus('closed');
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setStatus(status: LiveStatus): void {
    this.current = status;
    for (const l of this.listeners) l.status?.(status);
  }
}
