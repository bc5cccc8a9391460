import type { Logger } from '@hodei/domain';
import { Socket } from 'node:net';
import pg from 'pg';

export interface WakeUpListenerOptions {
  readonly connectionString: string;
  readonly channel: string;
  readonly logger: Logger;
  readonly applicationName?: string;
  /** First reconnect delay; doubles up to `maxBackoffMs` (defaults 250 ms and 10 s). */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How often the connection proves it still listens (default 10 s). */
  readonly heartbeatMs?: number;
  /** How long the proof may take before the connection counts as dead (default 5 s). */
  readonly heartbeatTimeoutMs?: number;
}

export type ListenerState = 'connecting' | 'listening' | 'closed';

/**
 * The process's one LISTEN connection. Notifications are only a hint to poll now; after every
 * (re)connect it re-LISTENs first and then wakes everyone for an immediate catch-up.
 */
export class WakeUpListener {
  readonly #options: WakeUpListenerOptions;
  readonly #subscribers = new Set<() => void>();
  #state: ListenerState = 'connecting';
  #client: pg.Client | null = null;
  #stopLoop: (() => void) | null = null;
  #running: Promise<void> | null = null;
  #closed = false;
  #reconnects = 0;

  constructor(options: WakeUpListenerOptions) {
    this.#options = options;
  }

  get state(): ListenerState {
    return this.#state;
  }

  /** How many times the connection was re-established after a loss. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** The backend pid of the current connection, for diagnostics and fault tests. */
  get backendPid(): number | null {
    // `processID` is set by pg after the handshake but missing from @types/pg.
    const pid: unknown = this.#client === null ? null : Reflect.get(this.#client, 'processID');
    return typeof pid === 'number' ? pid : null;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  onWake(callback: () => void): () => void {
    this.#subscribers.add(callback);
    return () => this.#subscribers.delete(callback);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#state = 'closed';
    this.#stopLoop?.();
    await this.#running;
  }

  #wakeAll(): void {
    for (const callback of this.#subscribers) callback();
  }

  async #run(): Promise<void> {
    const initial = this.#options.initialBackoffMs ?? 250;
    const max = this.#options.maxBackoffMs ?? 10_000;
    let delay = initial;
    let everConnected = false;
    let failing = false;
    while (!this.#closed) {
      this.#state = 'connecting';
      const client = new pg.Client({
        connectionString: this.#options.connectionString,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        connectionTimeoutMillis: 5_000,
        application_name: this.#options.applicationName ?? 'hodei-event-bus-listener',
      });
      let lostResolve: () => void = () => undefined;
      const lost = new Promise<void>((resolve) => {
        lostResolve = resolve;
      });
      client.on('error', () => lostResolve());
      client.on('end', () => lostResolve());
      this.#stopLoop = lostResolve;
      try {
        await client.connect();
        await client.query(`LISTEN "${this.#options.channel}"`);
      } catch (cause) {
        void client.end().catch(() => undefined);
        if (!failing) {
          this.#options.logger.warn('event bus listener cannot connect; polling continues', {
            error: cause instanceof Error ? cause.message : String(cause),
          });
          failing = true;
        }
        await this.#sleep(delay + Math.random() * delay * 0.2);
        delay = Math.min(delay * 2, max);
        continue;
      }
      if (failing || everConnected) {
        this.#reconnects += everConnected ? 1 : 0;
        this.#options.logger.info('event bus listener listening again');
      }
      failing = false;
      everConnected = true;
      delay = initial;
      this.#client = client;
      this.#state = 'listening';
      client.on('notification', () => this.#wakeAll());
      this.#wakeAll();
      const heartbeat = setInterval(() => {
        void this.#heartbeat(client, lostResolve);
      }, this.#options.heartbeatMs ?? 10_000);
      await lost;
      clearInterval(heartbeat);
      this.#client = null;
      abandon(client);
      if (!this.#closed) {
        this.#state = 'connecting';
        this.#options.logger.warn('event bus listener lost its connection; reconnecting');
        await this.#sleep(Math.random() * initial);
      }
    }
    this.#state = 'closed';
  }

  async #heartbeat(client: pg.Client, lost: () => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#options.heartbeatTimeoutMs ?? 5_000);
    });
    const check = client
      .query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_listening_channels() c WHERE c = $1',
        [this.#options.channel],
      )
      .then((res) => (res.rows[0]?.n === 1 ? 'ok' : 'not-listening'))
      .catch(() => 'failed');
    const outcome = await Promise.race([check, timeout]);
    clearTimeout(timer);
    if (outcome !== 'ok') lost();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#stopLoop = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Ends a client and destroys its socket: `end()` alone waits forever on a half-open one. */
function abandon(client: pg.Client): void {
  void client.end().catch(() => undefined);
  const connection: unknown = Reflect.get(client, 'connection');
  const stream: unknown =
    typeof connection === 'object' && connection !== null
      ? Reflect.get(connection, 'stream')
      : undefined;
  if (stream instanceof Socket) stream.destroy();
}
