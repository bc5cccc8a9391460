// pnpm bench: the event bus beside raw pg doing the same inserts and reads, in the same run.
import { performance } from 'node:perf_hooks';
import type { LifecycleEvent } from '@hodei/domain';
import { sql } from 'kysely';
import pg from 'pg';
import { PostgresEventBus } from '../event-bus.js';
import { eventColumns } from '../store/event-row.js';
import { createTestEventBus, waitUntil } from '../testing/index.js';

const WRITERS = 16;
const SINGLE_EVENTS = Number(process.env['BENCH_SINGLE_EVENTS'] ?? 6_000);
const BATCHES = Number(process.env['BENCH_BATCHES'] ?? 150);
const ROUNDS = 3;
const DELIVERY_EVENTS = Number(process.env['BENCH_DELIVERY_EVENTS'] ?? 20_000);

let seq = 0;
const nextEvent = (workerId: string): LifecycleEvent => {
  seq += 1;
  const hex = seq.toString(16).padStart(12, '0');
  return {
    eventId: `01990000-0000-7000-8000-${hex}`,
    type: 'WorkerEphemeralBusy',
    occurredAt: new Date(Date.UTC(2025, 0, 1) + seq).toISOString(),
    providerId: 'p-bench',
    workerId,
    correlationId: `c-${hex}`,
    actor: 'api',
  };
};
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
const rate = (count: number, ms: number) => Math.round((count / ms) * 1000);
const line = (label: string, ours: number, raw: number) =>
  console.log(
    `${label.padEnd(42)} bus ${String(ours).padStart(7)} ev/s   raw pg ${String(raw).padStart(7)} ev/s   ratio ${(ours / raw).toFixed(2)}x`,
  );

async function main(): Promise<void> {
  const t = await createTestEventBus('bench', { poolSize: WRITERS });
  const pool = new pg.Pool({ connectionString: t.url, max: WRITERS });
  const raw = `"${t.schema}".raw_events`;
  await pool.query(
    `CREATE TABLE ${raw} (LIKE "${t.schema}".events INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)`,
  );
  try {
    // 1 and 2 alternate bus and raw rounds and keep each side's best, to damp the noise of a
    // shared machine.
    const perWriter = Math.floor(SINGLE_EVENTS / WRITERS / ROUNDS);
    const quiet = PostgresEventBus.create({
      connectionString: t.url,
      schema: t.schema,
      poolSize: WRITERS,
      notify: false,
    })._unsafeUnwrap();
    const busSingleRound = async (bus: PostgresEventBus = t.bus) => {
      const start = performance.now();
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          for (let i = 0; i < perWriter; i += 1) {
            (await bus.store.append(nextEvent(`w-single-${w}`)))._unsafeUnwrap();
          }
        }),
      );
      return rate(perWriter * WRITERS, performance.now() - start);
    };
    let rawPosition = 0;
    const rawSingleRound = async () => {
      const start = performance.now();
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          for (let i = 0; i < perWriter; i += 1) {
            rawPosition += 1;
            await pool.query(
              `INSERT INTO ${raw} (${RAW_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
              rawRow(nextEvent(`w-single-${w}`), rawPosition),
            );
          }
        }),
      );
      return rate(perWriter * WRITERS, performance.now() - start);
    };
    const batches = Math.floor(BATCHES / ROUNDS);
    const busBatchRound = async () => {
      const start = performance.now();
      for (let b = 0; b < batches; b += 1) {
        const events = Array.from({ length: 100 }, () => nextEvent(`w-batch-${b % 8}`));
        (await t.bus.store.appendBatch(events))._unsafeUnwrap();
      }
      return rate(batches * 100, performance.now() - start);
    };
    const rawBatchRound = async () => {
      const start = performance.now();
      for (let b = 0; b < batches; b += 1) {
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
      return rate(batches * 100, performance.now() - start);
    };
    // Warm-up (connections, plans, caches), not counted.
    await busSingleRound();
    await rawSingleRound();
    await busBatchRound();
    await rawBatchRound();
    const best = { busSingle: 0, quietSingle: 0, rawSingle: 0, busBatch: 0, rawBatch: 0 };
    for (let round = 0; round < ROUNDS; round += 1) {
      best.busSingle = Math.max(best.busSingle, await busSingleRound());
      best.quietSingle = Math.max(best.quietSingle, await busSingleRound(quiet));
      best.rawSingle = Math.max(best.rawSingle, await rawSingleRound());
      best.busBatch = Math.max(best.busBatch, await busBatchRound());
      best.rawBatch = Math.max(best.rawBatch, await rawBatchRound());
    }
    line(`append, ${WRITERS} writers x 1 event`, best.busSingle, best.rawSingle);
    line(`append, ${WRITERS} writers x 1 event, NOTIFY off`, best.quietSingle, best.rawSingle);
    await quiet.close();
    line('append, batches of 100', best.busBatch, best.rawBatch);

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

    // 4. Commit-to-handler latency, with NOTIFY and with polling alone.
    for (const notify of [true, false]) {
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
      const latencySub = reader.subscriptions
        .subscribe({
          name: `bench-latency-${String(notify)}`,
          from: 'end',
          handler: (s) => void handledAt.set(s.event.eventId, performance.now()),
        })
        ._unsafeUnwrap();
      await waitUntil(() => latencySub.state().active, 'lease');
      await new Promise((r) => setTimeout(r, 300));
      const count = notify ? 300 : 60;
      for (let i = 0; i < count; i += 1) {
        const event = nextEvent('w-latency');
        (await writer.store.append(event))._unsafeUnwrap();
        committedAt.set(event.eventId, performance.now());
        await new Promise((r) => setTimeout(r, notify ? 10 : 50 + Math.random() * 100));
      }
      await waitUntil(() => handledAt.size >= count, 'latency deliveries', 60_000);
      const latencies = [...committedAt].map(([id, at]) =>
        Math.max(0, (handledAt.get(id) ?? at) - at),
      );
      console.log(
        `commit -> handler, NOTIFY ${notify ? 'on ' : 'off'} (${count} events)      p50 ${percentile(latencies, 50).toFixed(1)} ms   p99 ${percentile(latencies, 99).toFixed(1)} ms`,
      );
      await latencySub.stop();
      await reader.close();
      await writer.close();
    }
  } finally {
    await pool.end();
    await sql`SELECT 1`.execute(t.bus.db).catch(() => undefined);
    await t.drop();
  }
}

await main();
