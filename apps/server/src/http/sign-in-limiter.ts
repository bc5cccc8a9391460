import type { FastifyReply } from 'fastify';

/** Wrong tokens a client may try per window before its wrong tries are refused (429). */
export const MAX_WRONG_TOKENS = 10;
export const WRONG_TOKEN_WINDOW_MS = 60_000;
/** Clients remembered at most; past it the oldest is forgotten, so memory stays bounded. */
export const MAX_TRACKED_CLIENTS = 10_000;

interface Tries {
  readonly since: number;
  readonly count: number;
}

export interface SignInLimiterOptions {
  readonly maxWrong?: number;
  readonly windowMs?: number;
  readonly maxClients?: number;
  readonly now?: () => number;
}

/**
 * Bounds the guessing of the API token through the sign-in: at most `maxWrong` wrong tokens
 * per client address in a fixed window; then every sign-in from that address is refused,
 * unchecked, until the window ends — refusing only the wrong ones would tell a guesser which
 * try was right. Only wrong tries count. Behind a proxy every browser has the proxy's
 * address: one guesser there holds every sign-in back for the rest of the window (the API's
 * bearer tokens are not held back).
 */
export class SignInLimiter {
  readonly #byClient = new Map<string, Tries>();
  readonly #maxWrong: number;
  readonly #windowMs: number;
  readonly #maxClients: number;
  readonly #now: () => number;

  constructor(options: SignInLimiterOptions = {}) {
    this.#maxWrong = options.maxWrong ?? MAX_WRONG_TOKENS;
    this.#windowMs = options.windowMs ?? WRONG_TOKEN_WINDOW_MS;
    this.#maxClients = options.maxClients ?? MAX_TRACKED_CLIENTS;
    this.#now = options.now ?? Date.now;
  }

  /** Seconds `client` must wait before trying again, or 0 when it may try now. */
  retryAfterSeconds(client: string): number {
    const tries = this.#current(client);
    if (tries === undefined || tries.count < this.#maxWrong) return 0;
    return Math.max(1, Math.ceil((tries.since + this.#windowMs - this.#now()) / 1000));
  }

  wrongToken(client: string): void {
    const tries = this.#current(client) ?? { since: this.#now(), count: 0 };
    this.#byClient.delete(client);
    this.#byClient.set(client, { since: tries.since, count: tries.count + 1 });
    if (this.#byClient.size > this.#maxClients) {
      const oldest = this.#byClient.keys().next();
      if (oldest.done !== true) this.#byClient.delete(oldest.value);
    }
  }

  #current(client: string): Tries | undefined {
    const tries = this.#byClient.get(client);
    if (tries !== undefined && tries.since + this.#windowMs <= this.#now()) {
      this.#byClient.delete(client);
      return undefined;
    }
    return tries;
  }
}

/** The 429 of a wrong token past the bound: when to try again, in Retry-After. */
export const tooManyWrongTokens = (reply: FastifyReply, wait: number): FastifyReply =>
  reply
    .code(429)
    .header('retry-after', String(wait))
    .send({
      error: 'TooManyWrongTokens',
      message: `too many wrong tokens from this address; retry in ${wait} s`,
    });
