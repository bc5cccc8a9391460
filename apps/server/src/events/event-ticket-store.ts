import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A ticket as `POST /v1/events/tickets` answers it. */
export interface EventTicket {
  readonly ticket: string;
  /** ISO 8601: streams can be opened with it until then. */
  readonly expiresAt: string;
}

export interface EventTicketStoreOptions {
  /** How long a ticket opens streams (default 60 s). */
  readonly ttlMs?: number;
  /** Tickets held at once (default 1000); past it, the oldest is dropped. */
  readonly maxTickets?: number;
  /** Milliseconds since the epoch (default `Date.now`). */
  readonly now?: () => number;
}

interface Held {
  readonly digest: Buffer;
  readonly expiresAt: number;
}

export const DEFAULT_EVENT_TICKET_TTL_MS = 60_000;
export const DEFAULT_MAX_EVENT_TICKETS = 1_000;

/** `<id>.<secret>`, both base64url: the id finds the ticket, the secret proves it. */
const TICKET = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/**
 * Short-lived tickets for `GET /v1/events?ticket=`: a browser's `EventSource` cannot send the
 * bearer header, and the long-lived token must never be in a URL (proxies and browsers log
 * URLs). A ticket opens event streams, and nothing else, until it expires — an EventSource
 * reconnecting within that time reuses it; a stream it opened stays open after. Held in memory,
 * bounded in number and by expiry; only the secret's SHA-256 is kept, compared in constant time.
 */
export class EventTicketStore {
  readonly ttlMs: number;
  readonly maxTickets: number;
  readonly #now: () => number;
  /** By id, in issue order (so the first is the oldest). */
  readonly #tickets = new Map<string, Held>();

  constructor(options: EventTicketStoreOptions = {}) {
    this.ttlMs = Math.max(1, options.ttlMs ?? DEFAULT_EVENT_TICKET_TTL_MS);
    this.maxTickets = Math.max(1, options.maxTickets ?? DEFAULT_MAX_EVENT_TICKETS);
    this.#now = options.now ?? Date.now;
  }

  /** Tickets held (expired ones go at the next issue). */
  get size(): number {
    return this.#tickets.size;
  }

  issue(): EventTicket {
    const now = this.#now();
    this.#dropExpired(now);
    while (this.#tickets.size >= this.maxTickets) {
      const oldest = this.#tickets.keys().next().value;
      if (oldest === undefined) break;
      this.#tickets.delete(oldest);
    }
    const id = randomBytes(12).toString('base64url');
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = now + this.ttlMs;
    this.#tickets.set(id, { digest: digest(secret), expiresAt });
    return { ticket: `${id}.${secret}`, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Whether `ticket` is one this store issued and has not expired. */
  isValid(ticket: string): boolean {
    const parts = TICKET.exec(ticket);
    if (parts === null) return false;
    const held = this.#tickets.get(parts[1] ?? '');
    if (held === undefined) return false;
    if (this.#now() >= held.expiresAt) {
      this.#tickets.delete(parts[1] ?? '');
      return false;
    }
    return timingSafeEqual(held.digest, digest(parts[2] ?? ''));
  }

  #dropExpired(now: number): void {
    // Issue order is expiry order: stop at the first still valid.
    for (const [id, held] of this.#tickets) {
      if (held.expiresAt > now) return;
      this.#tickets.delete(id);
    }
  }
}
