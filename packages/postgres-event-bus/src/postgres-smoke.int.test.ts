import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from './testing/index.js';

describe('kysely + pg against the real PostgreSQL', () => {
  let schema: TestSchema;
  let dropped = false;

  beforeAll(async () => {
    schema = await createTestSchema('smoke');
  });

  afterAll(async () => {
    if (!dropped) await schema?.drop();
  });

  const schemaCount = async (): Promise<number> => {
    const res = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = ${schema.name}
    `.execute(schema.db);
    return res.rows[0]?.n ?? -1;
  };

  it('writes and reads a row in a schema of its own, then drops the schema', async () => {
    const db = schema.db.withSchema(schema.name);
    await db.schema
      .createTable('greetings')
      .addColumn('id', 'integer', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      .addColumn('text', 'text', (c) => c.notNull())
      .execute();
    await db.insertInto('greetings').values({ text: 'hello' }).execute();
    const rows = await db.selectFrom('greetings').select(['id', 'text']).execute();
    expect(rows).toEqual([{ id: 1, text: 'hello' }]);
    expect(await schemaCount()).toBe(1);

    await sql`DROP SCHEMA ${sql.id(schema.name)} CASCADE`.execute(schema.db);
    expect(await schemaCount()).toBe(0);
    dropped = true;
    await schema.db.destroy();
  });
});
