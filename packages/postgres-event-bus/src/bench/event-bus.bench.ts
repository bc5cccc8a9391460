// pnpm bench: the event bus beside raw pg doing the same inserts and reads, in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LifecycleEvent } from '@hodei/domain';
import { sql } from 'kysely';
import pg from 'pg';
import { PostgresEventBus } from '../event-bus.js';
import { benchEvents, rate, stats, triple } from './bench-figures.js';
import { EventBusPublisher } from '../publisher/event-bus-publisher.js';
import { eventColumns } from '../store/event-row.js';
import { createTestEventBus, waitUntil } from '../testing/index.js';

const WRITERS = 16;
const SINGLE_EVENTS = Number(process.env['BENCH_SINGLE_EVENTS'] ?? 1_600);
const BATCHES = Number(process.env['BENCH_BATCHES'] ?? 30);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const DELIVERY_EVENTS = Number(process.env['BENCH_DELIVERY_EVENTS'] ?? 20_000);
const LATENCY_EVENTS = 150;

const nextEvent = benchEvents('01990000');
const rawRow = (e: LifecycleEvent, position: number) => [
  e.eventId,
  e.type,
  `/hodei/providers/${e.providerId}`,
  'workerId' in e ? e.workerId : null,
  e.providerId,
  `raw:${'workerId' in e ? e.workerId : ''}`,
  position,
  e.occurredAt,
  '{}',
  JSON.stringify({ correlationid: e.correlationId, actor: e.actor, time: e.occurredAt }),
];
const RAW_COLUMNS =
  'event_id, type, source, subject, provider_id, stream_id, stream_position, time, data, metadata';

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const line = (label: string, ours: number, raw: number) =>
  console.log(
    `${label.padEnd(46)} bus ${String(ours).padStart(7)} ev/s   raw pg ${String(raw).padStart(7)} ev/s   ratio ${(ours / raw).toFixed(2)}x`,
  );

interface Figure {
  readonly label: string;
  /** Goal, as a ratio of the bus's rate to the raw baseline's. */
  readonly goal: number;
  readonly bus: number[];
  readonly raw: number[];
}

const report = (f: Figure) => {
  const ratios = f.bus.map((b, i) => b / (f.raw[i] ?? NaN));
  const { median } = stats(ratios);
  console.log(
    `${f.label.padEnd(46)} bus ${triple(f.bus).padStart(17)} ev/s  raw ${triple(f.raw).padStart(17)} ev/s  ratio ${triple(ratios, 2)}  goal >= ${f.goal.toFixed(2)}x ${median >= f.goal ? 'met' : 'NOT met'} (median)`,
  );
};

async function main(): Promise<void> {
  const t = await createTestEventBus('bench', { poolSize: WRITERS });
  const pool = new pg.Pool({ connectionString: t.url, max: WRITERS });
  const raw = `"${t.schema}".raw_events`;
  const spoolDir = mkdtempSync(join(tmpdir(), 'hodei-bench-'));
  await pool.query(
    `CREATE TABLE ${raw} (LIKE "${t.schema}".events INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)`,
  );
  const ungrouped = PostgresEventBus.create({
    connectionString: t.url,
    schema: t.schema,
    poolSize: WRITERS,
    groupCommit: false,
  })._unsafeUnwrap();
  const publisher = EventBusPublisher.open({
    bus: t.bus,
    spoolDirectory: spoolDir,
  })._unsafeUnwrap();
  try {
    // Bus and raw rounds alternate, each ratio against the raw round beside it.
    const perWriter = Math.floor(SINGLE_EVENTS / WRITERS);
    const writers = async (write: (w: number) => Promise<void>) => {
      const start = performance.now();
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          for (let i = 0; i < perWriter; i += 1) await write(w);
        }),
      );
      return rate(perWriter * WRITERS, performance.now() - start);
    };
    const storeSingleRound = (bus: PostgresEventBus) =>
      writers(async (w) => {
        (await bus.store.append(nextEvent(`w-single-${w}`)))._unsafeUnwrap();
      });
    const publishRound = () =>
      writers(async (w) => {
        (await publisher.publish(nextEvent(`w-publish-${w}`)))._unsafeUnwrap();
      });
    let rawPosition = 0;
    const rawSingleRound = () =>
      writers(async (w) => {
        rawPosition += 1;
        await pool.query(
          `INSERT INTO ${raw} (${RAW_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
          rawRow(nextEvent(`w-single-${w}`), rawPosition),
        );
      });
    const busBatchRound = async () => {
      const start = performance.now();
      for (let b = 0; b < BATCHES; b += 1) {
        const events = Array.from({ length: 100 }, () => nextEvent(`w-batch-${b % 8}`));
        (await t.bus.store.appendBatch(events))._unsafeUnwrap();
      }
      return rate(BATCHES * 100, performance.now() - start);
    };
    const rawBatchRound = async () => {
      const start = performance.now();
      for (let b = 0; b < BATCHES; b += 1) {
        const rows = Array.from({ length: 100 }, () => {
          rawPosition += 1;
          return rawRow(nextEvent(`w-batch-${b}`), rawPosition);
        });
        const values = rows
          .map(
            (_, r) => `(${Array.from({ length: 10 }, (_, c) => `$${r * 10 + c + 1}`).join(',')})`,
          )
          .join(',');
        await pool.query(`INSERT INTO ${raw} (${RAW_COLUMNS}) VALUES ${values}`, rows.flat());
      }
      return rate(BATCHES * 100, performance.now() - start);
    };
    // Warm-up (connections, plans, caches), not counted.
    await storeSingleRound(t.bus);
    await storeSingleRound(ungrouped);
    await publishRound();
    await rawSingleRound();
    await busBatchRound();
    await rawBatchRound();
    const figure = (label: string, goal: number): Figure => ({ label, goal, bus: [], raw: [] });
    const store = figure(`store.append, ${WRITERS} writers x 1 event`, 1.5);
    const published = figure(`publisher.publish, ${WRITERS} writers x 1 event`, 1.5);
    const noGroup = figure(`  (no group commit) store.append, ${WRITERS} x 1`, 0);
    const batch = figure('store.appendBatch, batches of 100', 0.9);
    // Each bus figure is measured between two raw rounds and compared with their mean, and the
    // figures take turns going first, so neither side gains from where it falls in a round.
    const singles: [Figure, () => Promise<number>][] = [
      [store, () => storeSingleRound(t.bus)],
      [published, publishRound],
      [noGroup, () => storeSingleRound(ungrouped)],
    ];
    for (let round = 0; round < ROUNDS; round += 1) {
      let before = await rawSingleRound();
      for (let i = 0; i < singles.length; i += 1) {
        const [f, run] = singles[(round + i) % singles.length] ?? singles[0]!;
        const bus = await run();
        const after = await rawSingleRound();
        f.bus.push(bus);
        f.raw.push((before + after) / 2);
        before = after;
      }
      const rawBefore = await rawBatchRound();
      batch.bus.push(await busBatchRound());
      batch.raw.push((rawBefore + (await rawBatchRound())) / 2);
    }
    console.log(
      `${ROUNDS} rounds, min/median/max; ratio = bus / mean of the raw rounds just before and after`,
    );
    for (const f of [store, published, noGroup, batch]) report(f);

    // 3. Delivery to one subscription vs raw keyset reads of the same rows.
    for (let b = 0; b < DELIVERY_EVENTS / 100; b += 1) {
      const events = Array.from({ length: 100 }, () => nextEvent(`w-deliver-${b % 16}`));
      (await t.bus.store.appendBatch(events))._unsafeUnwrap();
    }
    const total = Number(
      (await pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${t.schema}".events`)).rows[0]
        ?.n,
    );
    let delivered = 0;
    let start = performance.now();
    const sub = t.bus.subscriptions
      .subscribe({ name: 'bench-delivery', batchSize: 500, handler: () => void (delivered += 1) })
      ._unsafeUnwrap();
    await waitUntil(() => delivered >= total, 'delivery', 300_000);
    const busDelivery = rate(total, performance.now() - start);
    await sub.stop();
    start = performance.now();
    let after = '0';
    let read = 0;
    for (;;) {
      const res = await pool.query<{ global_position: string }>(
        `SELECT ${eventColumns()} FROM "${t.schema}".events WHERE global_position > $1
         ORDER BY global_position LIMIT 500`,
        [after],
      );
      if (res.rows.length === 0) break;
      read += res.rows.length;
      after = res.rows.at(-1)?.global_position ?? after;
    }
    const rawDelivery = rate(read, performance.now() - start);
    line(`delivery to one subscription (${total} events)`, busDelivery, rawDelivery);

    // 4. Commit-to-handler latency: NOTIFY on, a lone writer and 16 concurrent ones (group
    // commit), several rounds; then polling alone, once.
    const latencyRound = async (notify: boolean, writerCount: number, perWriter: number) => {
      const writer = PostgresEventBus.create({
        connectionString: t.url,
        schema: t.schema,
        notify,
        listen: false,
      })._unsafeUnwrap();
      const reader = PostgresEventBus.create({
        connectionString: t.url,
        schema: t.schema,
        listen: notify,
      })._unsafeUnwrap();
      const committedAt = new Map<string, number>();
      const handledAt = new Map<string, number>();
      latencyRuns += 1;
      const latencySub = reader.subscriptions
        .subscribe({
          name: `bench-latency-${latencyRuns}`,
          from: 'end',
          handler: (s) => void handledAt.set(s.event.eventId, performance.now()),
        })
        ._unsafeUnwrap();
      await waitUntil(() => latencySub.state().active, 'lease');
      await new Promise((r) => setTimeout(r, 300));
      await Promise.all(
        Array.from({ length: writerCount }, async (_, w) => {
          for (let i = 0; i < perWriter; i += 1) {
            const event = nextEvent(`w-latency-${w}`);
            (await writer.store.append(event))._unsafeUnwrap();
            committedAt.set(event.eventId, performance.now());
            await new Promise((r) => setTimeout(r, notify ? 10 : 50 + Math.random() * 100));
          }
        }),
      );
      await waitUntil(() => handledAt.size >= committedAt.size, 'latency deliveries', 60_000);
      await latencySub.stop();
      await reader.close();
      await writer.close();
      return [...committedAt].map(([id, at]) => Math.max(0, (handledAt.get(id) ?? at) - at));
    };
    let latencyRuns = 0;
    for (const writerCount of [1, WRITERS]) {
      const p50: number[] = [];
      const p99: number[] = [];
      for (let round = 0; round < 3; round += 1) {
        const latencies = await latencyRound(true, writerCount, LATENCY_EVENTS / writerCount);
        p50.push(percentile(latencies, 50));
        p99.push(percentile(latencies, 99));
      }
      const { median } = stats(p99);
      console.log(
        `commit -> handler, NOTIFY on, ${String(writerCount).padStart(2)} writer(s), 3 rounds   p50 ${triple(p50, 1)} ms   p99 ${triple(p99, 1)} ms   goal p99 <= 50 ms ${median <= 50 ? 'met' : 'NOT met'} (median)`,
      );
    }
    const polled = await latencyRound(false, 1, 60);
    console.log(
      `commit -> handler, NOTIFY off, polling alone (60 events)   p50 ${percentile(polled, 50).toFixed(1)} ms   p99 ${percentile(polled, 99).toFixed(1)} ms`,
    );
  } finally {
    await publisher.close();
    await ungrouped.close();
    rmSync(spoolDir, { recursive: true, force: true });
    await pool.end();
    await sql`SELECT 1`.execute(t.bus.db).catch(() => undefined);
    await t.drop();
  }
}

await main();
