import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a browser's session answers to `POST` and `GET /v1/session`. */
export interface SessionView {
  readonly csrfToken: string;
  /** ISO 8601. */
  readonly expiresAt: string;
}

/** A new session: the cookie's value (never stored as it is) and what the browser is told. */
export interface IssuedSession extends SessionView {
  readonly id: string;
}

/** A live response opened with a session's cookie (SSE, a followed log): ended with it. */
export interface HeldStream {
  destroy(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

interface StoredSession {
  readonly csrfToken: string;
  readonly expiresAt: number;
  readonly streams: Set<HeldStream>;
}

export interface SessionStoreOptions {
  /** How long a session lasts; 12 h by default. */
  readonly ttlMs?: number;
  /** Sessions kept at most; past it the least recently used is signed out. 1,000 by default. */
  readonly maxSessions?: number;
  readonly now?: () => number;
}

export const DEFAULT_SESSION_TTL_MS = 12 * 3600 * 1000;
export const MAX_SESSIONS = 1_000;

/** The longest a timer may wait (2^31 - 1 ms); a later expiry is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A stream's expiry check never comes sooner than this after the last: no busy loop. */
const MIN_RECHECK_MS = 100;

/** 32 random bytes, as cookie- and header-safe text. */
const secret = (): string => randomBytes(32).toString('base64url');
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
/** The key a session is stored under: its id's hash, so memory holds no usable cookie. */
const keyOf = (id: string): string => digest(id).toString('hex');

/**
 * The dashboard's browser sessions, in memory: a restart signs everyone out, which is the
 * price of keeping no secret on disk. Bounded: past `maxSessions` the least recently used
 * session goes, so a script signing in again and again evicts its own idle sessions before a
 * browser's that keeps calling. The live streams a session opened end with it: at sign-out,
 * at expiry, at eviction.
 */
export class SessionStore {
  readonly #sessions = new Map<string, StoredSession>();
  readonly ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: SessionStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.#max = options.maxSessions ?? MAX_SESSIONS;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#sessions.size;
  }

  issue(): IssuedSession {
    const id = secret();
    const session: StoredSession = {
      csrfToken: secret(),
      expiresAt: this.#now() + this.ttlMs,
      streams: new Set(),
    };
    this.#sessions.set(keyOf(id), session);
    while (this.#sessions.size > this.#max) {
      // A Map iterates in insertion order, and each use re-inserts: first is least recent.
      const oldest = this.#sessions.keys().next();
      if (oldest.done === true) break;
      this.#drop(oldest.value);
    }
    return { id, ...viewOf(session) };
  }

  /** The session of a cookie value, while it lasts; an expired one is forgotten here. */
  find(id: string | undefined): SessionView | undefined {
    const session = this.#stored(id);
    return session === undefined ? undefined : viewOf(session);
  }

  /** Whether `given` is the CSRF token of the session `id`; constant time, as the token check. */
  csrfMatches(id: string, given: string | undefined): boolean {
    const session = this.#stored(id);
    if (session === undefined || given === undefined) return false;
    return timingSafeEqual(digest(given), digest(session.csrfToken));
  }

  /** Signs the session out; the streams it opened end at once. */
  forget(id: string | undefined): void {
    if (id !== undefined) this.#drop(keyOf(id));
  }

  /**
   * Ties a live response to the session of `id`: it is destroyed when the session is
   * forgotten, evicted or expires (a timer at `expiresAt`), so a signed-out browser keeps no
   * stream. Without a valid session it is destroyed now.
   */
  holdStream(id: string, stream: HeldStream): void {
    const key = keyOf(id);
    const session = this.#storedByKey(key);
    if (session === undefined) {
      stream.destroy();
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = (): void => {
      const left = Math.max(session.expiresAt - this.#now(), MIN_RECHECK_MS);
      timer = setTimeout(check, Math.min(left, MAX_TIMER_MS));
      timer.unref();
    };
    const check = (): void => {
      // Read again: an expired session is dropped there, its streams with it.
      if (this.#storedByKey(key) === session) schedule();
      else stream.destroy();
    };
    session.streams.add(stream);
    stream.once('close', () => {
      clearTimeout(timer);
      session.streams.delete(stream);
    });
    schedule();
  }

  #stored(id: string | undefined): StoredSession | undefined {
    if (id === undefined || id === '') return undefined;
    return this.#storedByKey(keyOf(id));
  }

  /** The live session under `key`, now the most recently used; an expired one is dropped. */
  #storedByKey(key: string): StoredSession | undefined {
    const session = this.#sessions.get(key);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#drop(key);
      return undefined;
    }
    this.#sessions.delete(key);
    this.#sessions.set(key, session);
    return session;
  }

  #drop(key: string): void {
    const session = this.#sessions.get(key);
    if (session === undefined) return;
    this.#sessions.delete(key);
    for (const stream of [...session.streams]) stream.destroy();
    session.streams.clear();
  }
}

const viewOf = (s: StoredSession): SessionView => ({
  csrfToken: s.csrfToken,
  expiresAt: new Date(s.expiresAt).toISOString(),
});
