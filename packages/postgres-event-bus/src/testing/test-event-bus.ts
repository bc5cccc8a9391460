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
 * Makes the test bus's table refuse, as a server-side error, every event of `providerId`: a
 * trigger raising on insert (a poisoned event among good ones).
 */
export async function refuseEventsOf(t: TestEventBus, providerId: string): Promise<void> {
  await sql
    .raw(
      `CREATE FUNCTION "${t.schema}".test_refusal() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.provider_id = '${providerId}' THEN RAISE EXCEPTION 'poisoned event %', NEW.event_id; END IF;
        RETURN NEW;
      END $$`,
    )
    .execute(t.bus.db);
  await sql
    .raw(
      `CREATE TRIGGER test_refusal BEFORE INSERT ON "${t.schema}".events
       FOR EACH ROW EXECUTE FUNCTION "${t.schema}".test_refusal()`,
    )
    .execute(t.bus.db);
}
