import { ResultAsync } from 'neverthrow';
import pg from 'pg';

export interface DatabaseUnavailable {
  readonly type: 'DatabaseUnavailable';
  readonly message: string;
  readonly retryable: true;
  readonly cause: unknown;
}

/** The URL without its password, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

export const databaseUnavailable = (url: string, cause: unknown): DatabaseUnavailable => ({
  type: 'DatabaseUnavailable',
  message: `PostgreSQL at ${redactDatabaseUrl(url)} is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`,
  retryable: true,
  cause,
});

/** Connects once, asks the server's version and disconnects. */
export function postgresServerVersion(url: string): ResultAsync<string, DatabaseUnavailable> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  const query = async (): Promise<string> => {
    try {
      await client.connect();
      const res = await client.query<{ server_version: string }>('SHOW server_version');
      return res.rows[0]?.server_version ?? 'unknown';
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  return ResultAsync.fromPromise(query(), (cause) => databaseUnavailable(url, cause));
}
