import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { type EventBusOptions, PostgresEventBus } from '../event-bus.js';
import { requireTestDatabase } from './test-database.js';

export interface TestEventBus {
  readonly bus: PostgresEventBus;
  readonly schema: string;
  readonly url: string;
  /** Closes the bus and drops its schema. */
  drop(): Promise<void>;
}

/** A migrated event bus in a schema of its own on the test database. */
export async function createTestEventBus(
  prefix = 'bus',
  options: Partial<EventBusOptions> = {},
): Promise<TestEventBus> {
  const url = options.connectionString ?? (await requireTestDatabase());
  const schema = options.schema ?? `${prefix}_${randomBytes(5).toString('hex')}`;
  const created = PostgresEventBus.create({ ...options, connectionString: url, schema });
  if (created.isErr()) throw new Error(created.error.message);
  const bus = created.value;
  const ready = await bus.ready();
  if (ready.isErr()) {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`
      .execute(bus.db)
      .catch(() => undefined);
    await bus.close();
    throw new Error(ready.error.message);
  }
  return {
    bus,
    schema,
    url,
    drop: async () => {
      await bus.subscriptions.close();
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`
        .execute(bus.db)
        .catch(() => undefined);
      await bus.close();
    },
  };
}

/**
 * A test-only behaviour of the test bus's table: `statement` (PL/pgSQL) runs for each inserted
 * event of `providerId`, before or after the insert, e.g. a `RAISE` (a poisoned event among
 * good ones) or a `pg_sleep` (a transaction held open, rows inserted).
 */
export async function onInsertOf(
  t: TestEventBus,
  providerId: string,
  when: 'BEFORE' | 'AFTER',
  statement: string,
): Promise<void> {
  const name = `test_${randomBytes(4).toString('hex')}`;
  await sql
    .raw(
      `CREATE FUNCTION "${t.schema}".${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.provider_id = '${providerId}' THEN ${statement}; END IF;
        RETURN NEW;
      END $$`,
    )
    .execute(t.bus.db);
  await sql
    .raw(
      `CREATE TRIGGER ${name} ${when} INSERT ON "${t.schema}".events
       FOR EACH ROW EXECUTE FUNCTION "${t.schema}".${name}()`,
    )
    .execute(t.bus.db);
}

/** Every event of `providerId` refused by the server on insert. */
export const refuseEventsOf = (t: TestEventBus, providerId: string): Promise<void> =>
  onInsertOf(t, providerId, 'BEFORE', "RAISE EXCEPTION 'poisoned event %', NEW.event_id");

/** The ids of every event in the test bus's table. */
export async function storedEventIds(t: TestEventBus): Promise<Set<string>> {
  const res = await sql<{ event_id: string }>`
    SELECT event_id::text AS event_id FROM ${sql.id(t.schema, 'events')}`.execute(t.bus.db);
  return new Set(res.rows.map((r) => r.event_id));
}
