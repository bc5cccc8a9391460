// pnpm bench: what migration 0005 (actor and correlation_id set by a BEFORE INSERT trigger, and
// their indexes) costs the append path: the same appends to a log migrated to 0004 and to one
// migrated to the latest, rounds alternating, in the same run.
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { PostgresEventBus } from '../event-bus.js';
import { benchEvents, rate, stats, triple } from './bench-figures.js';
import { migrateSchema } from '../schema/migrations.js';
import { requireTestDatabase } from '../testing/index.js';

const WRITERS = 16;
const SINGLE_EVENTS = Number(process.env['BENCH_SINGLE_EVENTS'] ?? 1_600);
const BATCHES = Number(process.env['BENCH_BATCHES'] ?? 30);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
/** Goal: the columns and their indexes cost the append at most 10 %. */
const GOAL = 0.9;

const nextEvent = benchEvents('01995000');

/** A bus on a schema of its own, migrated up to `target` (all when undefined). */
async function busAt(url: string, schema: string, target?: string): Promise<PostgresEventBus> {
  const bus = PostgresEventBus.create({
    connectionString: url,
    schema,
    poolSize: WRITERS,
    listen: false,
  })._unsafeUnwrap();
  const migrated = await migrateSchema(bus.db, schema, target);
  if (migrated.error !== undefined)
    throw new Error(`cannot migrate ${schema}`, { cause: migrated.error });
  return bus;
}

const singles = async (bus: PostgresEventBus): Promise<number> => {
  const perWriter = Math.floor(SINGLE_EVENTS / WRITERS);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < perWriter; i += 1)
        (await bus.store.append(nextEvent(`w-${w}`)))._unsafeUnwrap();
    }),
  );
  return rate(perWriter * WRITERS, performance.now() - start);
};

const batches = async (bus: PostgresEventBus): Promise<number> => {
  const start = performance.now();
  for (let b = 0; b < BATCHES; b += 1) {
    const events = Array.from({ length: 100 }, () => nextEvent(`w-batch-${b % 8}`));
    (await bus.store.appendBatch(events))._unsafeUnwrap();
  }
  return rate(BATCHES * 100, performance.now() - start);
};

async function main(): Promise<void> {
  const url = await requireTestDatabase();
  const suffix = Math.floor(performance.now()).toString(36);
  const before = await busAt(url, `bench_0004_${suffix}`, '0004_append_id_lookup_and_group');
  const after = await busAt(url, `bench_0005_${suffix}`);
  try {
    for (const bus of [before, after]) {
      await singles(bus);
      await batches(bus);
    }
    const figures = [
      { label: `store.append, ${WRITERS} writers x 1 event`, run: singles },
      { label: 'store.appendBatch, batches of 100', run: batches },
    ].map((f) => ({ ...f, old: [] as number[], now: [] as number[] }));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const f of figures) {
        // Each side goes first in every other round.
        const order = round % 2 === 0 ? [before, after] : [after, before];
        for (const bus of order) (bus === before ? f.old : f.now).push(await f.run(bus));
      }
    }
    console.log(
      `migration 0005 on the append path, ${ROUNDS} rounds, min/median/max; ratio = 0005 / 0004 of the same round`,
    );
    for (const f of figures) {
      const ratios = f.now.map((v, i) => v / (f.old[i] ?? NaN));
      const { median } = stats(ratios);
      console.log(
        `${f.label.padEnd(40)} 0005 ${triple(f.now).padStart(17)} ev/s  0004 ${triple(f.old).padStart(17)} ev/s  ratio ${triple(ratios, 2)}  goal >= ${GOAL.toFixed(2)}x ${median >= GOAL ? 'met' : 'NOT met'} (median)`,
      );
    }
  } finally {
    for (const bus of [before, after]) {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(bus.schema)} CASCADE`.execute(bus.db);
      await bus.close();
    }
  }
}

await main();
