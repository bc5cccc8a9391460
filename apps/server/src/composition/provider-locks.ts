import { hostname } from 'node:os';
import { err, ok, type Result } from 'neverthrow';
import pg from 'pg';
import { silentLogger, type Logger } from '@hodei/domain';

export interface ProviderLockHeld {
  readonly type: 'ProviderLockHeld';
  readonly providerId: string;
  readonly message: string;
}

export interface LockDatabaseUnavailable {
  readonly type: 'LockDatabaseUnavailable';
  readonly message: string;
}

export type ProviderLockError = ProviderLockHeld | LockDatabaseUnavailable;

/** Namespace of our advisory locks: the first key of the two-key form. */
const LOCK_NAMESPACE = 0x484f4445; // "HODE"
const HEARTBEAT_MS = 5_000;

/**
 * One PostgreSQL session holding an advisory lock per provider id for as long as the server
 * runs (SPEC §8): a second server given the same provider id cannot take it and refuses to
 * start, so two servers never reap each other's workers. The lock goes with the session, so a
 * server killed with SIGKILL frees it when PostgreSQL notices the connection is gone.
 */
export class ProviderLocks {
  #client: pg.Client | undefined;
  #held = true;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #listeners: ((held: boolean) => void)[] = [];

  private constructor(
    client: pg.Client,
    private readonly databaseUrl: string,
    readonly providerIds: readonly string[],
    private readonly logger: Logger,
  ) {
    this.#watch(client);
  }

  /** Takes every lock or none: a lock held elsewhere is an error naming its holder. */
  static async acquire(
    databaseUrl: string,
    providerIds: readonly string[],
    logger: Logger = silentLogger,
  ): Promise<Result<ProviderLocks, ProviderLockError>> {
    const taken = await lockSession(databaseUrl, providerIds);
    return taken.map((client) => new ProviderLocks(client, databaseUrl, providerIds, logger));
  }

  /**
   * Whether the locks are held now. A session lost with its connection (PostgreSQL restarted,
   * the network cut) loses them; the passes of these providers wait until they are retaken.
   */
  get held(): boolean {
    return this.#held;
  }

  /** Told each time the locks are lost (`false`) or retaken (`true`). */
  onChange(listener: (held: boolean) => void): void {
    this.#listeners.push(listener);
  }

  #tell(held: boolean): void {
    for (const l of this.#listeners) l(held);
  }

  async release(): Promise<void> {
    this.#closed = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #watch(client: pg.Client): void {
    this.#client = client;
    this.#held = true;
    // A partitioned session raises no event for a long time: ask it something every few
    // seconds, and count it lost when it does not answer.
    const heartbeat = setInterval(() => {
      client.query('SELECT 1').catch(() => lost());
    }, HEARTBEAT_MS);
    heartbeat.unref();
    const lost = () => {
      clearInterval(heartbeat);
      if (this.#client !== client || this.#closed) return;
      this.#client = undefined;
      this.#held = false;
      this.logger.error(
        'provider locks lost with their PostgreSQL session; passes wait until they are retaken',
        {
          providers: this.providerIds,
        },
      );
      client.end().catch(() => undefined);
      this.#tell(false);
      this.#schedule(1_000);
    };
    client.on('error', lost);
    client.on('end', lost);
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#retry = setTimeout(() => {
      void this.#retake(delayMs);
    }, delayMs);
    this.#retry.unref();
  }

  async #retake(lastDelayMs: number): Promise<void> {
    const taken = await lockSession(this.databaseUrl, this.providerIds);
    if (this.#closed) {
      if (taken.isOk()) await taken.value.end().catch(() => undefined);
      return;
    }
    if (taken.isOk()) {
      this.#watch(taken.value);
      this.logger.info('provider locks retaken', { providers: this.providerIds });
      this.#tell(true);
      return;
    }
    // Said once per loss, not at every try.
    if (lastDelayMs === 1_000)
      this.logger.error('provider locks not retaken yet; retrying', {
        error: taken.error.message,
      });
    this.#schedule(Math.min(lastDelayMs * 2, 10_000));
  }
}

async function lockSession(
  databaseUrl: string,
  providerIds: readonly string[],
): Promise<Result<pg.Client, ProviderLockError>> {
  const name = `hodei-server pid=${process.pid} host=${hostname()}`.slice(0, 63);
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: name,
    connectionTimeoutMillis: 5_000,
    query_timeout: 5_000,
    keepAlive: true,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (cause) {
    return err({
      type: 'LockDatabaseUnavailable',
      message: `cannot reach PostgreSQL (DATABASE_URL) to take the provider locks: ${(cause as Error).message}`,
    });
  }
  try {
    for (const id of providerIds) {
      const taken = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1::int4, hashtext($2)) AS locked',
        [LOCK_NAMESPACE, `provider:${id}`],
      );
      if (taken.rows[0]?.locked === true) continue;
      const holder = await client.query<{
        pid: number;
        application_name: string;
        client_addr: string | null;
        backend_start: Date;
      }>(
        `SELECT a.pid, a.application_name, a.client_addr::text AS client_addr, a.backend_start
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int8::oid
            AND l.objid::int8 = (hashtext($2)::int8 + 4294967296) % 4294967296 AND l.objsubid = 2`,
        [LOCK_NAMESPACE, `provider:${id}`],
      );
      const h = holder.rows[0];
      const who =
        h === undefined
          ? 'another session'
          : `"${h.application_name}" (PostgreSQL backend ${h.pid}${h.client_addr === null ? '' : ` from ${h.client_addr}`}, since ${h.backend_start.toISOString()})`;
      await client.end().catch(() => undefined);
      return err({
        type: 'ProviderLockHeld',
        providerId: id,
        message: `provider id "${id}" is already served by ${who}: two servers with one provider id would reap each other's workers. Stop that server, or give this one another id in HODEI_PROVIDERS.`,
      });
    }
  } catch (cause) {
    await client.end().catch(() => undefined);
    return err({
      type: 'LockDatabaseUnavailable',
      message: `could not take the provider locks: ${(cause as Error).message}`,
    });
  }
  return ok(client);
}
