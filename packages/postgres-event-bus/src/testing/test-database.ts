import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { postgresServerVersion } from '../postgres-server.js';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://hodei:hodei@127.0.0.1:5432/hodei';

export const testDatabaseUrl = (): string =>
  process.env['DATABASE_URL'] ?? DEFAULT_TEST_DATABASE_URL;

/** Fails, never skips, when PostgreSQL does not answer, saying how to bring it up. */
export async function requireTestDatabase(): Promise<string> {
  const url = testDatabaseUrl();
  const version = await postgresServerVersion(url);
  if (version.isErr()) {
    throw new Error(
      `${version.error.message}. These tests need a real PostgreSQL: run scripts/services.sh up`,
    );
  }
  return url;
}

export interface TestSchema {
  readonly name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tables vary per test
  readonly db: Kysely<any>;
  /** Drops the schema and closes the pool. */
  drop(): Promise<void>;
}

/** A schema of its own for one test file, so files never see each other's tables. */
export async function createTestSchema(prefix = 'test'): Promise<TestSchema> {
  const url = await requireTestDatabase();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tables vary per test
  const db = new Kysely<any>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }) }),
  });
  await db.schema.createSchema(name).execute();
  return {
    name,
    db,
    drop: async () => {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(name)} CASCADE`.execute(db);
      await db.destroy();
    },
  };
}
