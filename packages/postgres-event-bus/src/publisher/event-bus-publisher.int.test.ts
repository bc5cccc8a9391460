import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LifecycleEvent } from '@hodei/domain';
import { describePublisherContract, ManualClock, sampleEvents } from '@hodei/domain/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventBus } from '../event-bus.js';
import {
  createTestEventBus,
  requireTestDatabase,
  startTcpProxy,
  type TcpProxy,
  type TestEventBus,
} from '../testing/index.js';
import { EventBusPublisher } from './event-bus-publisher.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'hodei-pub-'));

describePublisherContract('EventBusPublisher', async () => {
  const t = await createTestEventBus('pubc');
  const dir = tempDir();
  const publisher = EventBusPublisher.open({ bus: t.bus, spoolDirectory: dir })._unsafeUnwrap();
  return {
    publisher,
    read: async () => (await t.bus.store.readFrom(null))._unsafeUnwrap().map((s) => s.event),
    teardown: async () => {
      await publisher.close();
      await t.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let n = 0;
const event = (actor: LifecycleEvent['actor'], workerId = 'w-out'): LifecycleEvent => {
  n += 1;
  return {
    eventId: `01910000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
    type: 'WorkerEphemeralReady',
    occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, n)).toISOString(),
    providerId: 'p-out',
    workerId,
    ...(actor === undefined ? {} : { actor }),
  };
};

describe('EventBusPublisher while PostgreSQL is unreachable (through a TCP proxy)', () => {
  let t: TestEventBus;
  let proxy: TcpProxy;
  let bus: PostgresEventBus;
  const dirs: string[] = [];

  beforeAll(async () => {
    t = await createTestEventBus('pubout');
    const url = new URL(await requireTestDatabase());
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    bus = PostgresEventBus.create({
      connectionString: proxy.rewrite(t.url),
      schema: t.schema,
    })._unsafeUnwrap();
  });

  afterAll(async () => {
    await bus?.close();
    await proxy?.close();
    await t?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const stored = async () =>
    (await t.bus.store.readFrom(null, { limit: 10_000 }))
      ._unsafeUnwrap()
      .map((s) => s.event.eventId);

  it('spools while the database is down, reports it, and replays in order when it returns', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const clock = new ManualClock(1_000_000);
    const publisher = EventBusPublisher.open({
      bus,
      spoolDirectory: dir,
      clock,
      retryMs: 50,
      maxRetryMs: 200,
    })._unsafeUnwrap();
    const before = [event('api'), event('api')];
    expect((await publisher.publishBatch(before)).isOk()).toBe(true);
    expect(publisher.state()).toMatchObject({
      connected: true,
      spooledCount: 0,
      oldestSpooledAgeMs: null,
    });

    proxy.down();
    const during = [event('api'), event('gc'), event('api')];
    for (const e of during) expect((await publisher.publish(e)).isOk()).toBe(true);
    clock.advance(5_000);
    expect(publisher.state()).toMatchObject({
      connected: false,
      spooledCount: 3,
      oldestSpooledAgeMs: 5_000,
    });
    expect(publisher.backpressure()).toBeNull();

    proxy.up();
    const after = event('api');
    expect((await publisher.publish(after)).isOk()).toBe(true);
    expect((await publisher.flush()).isOk()).toBe(true);
    expect(publisher.state()).toMatchObject({ connected: true, spooledCount: 0 });
    const ids = await stored();
    expect(ids.slice(-6)).toEqual([...before, ...during, after].map((e) => e.eventId));
    await publisher.close();
  });

  it('refuses API events past the bound with PublisherBackpressure, and still spools gc, watch and recovery', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const publisher = EventBusPublisher.open({
      bus,
      spoolDirectory: dir,
      maxSpooledEvents: 3,
      retryMs: 50,
      maxRetryMs: 100,
    })._unsafeUnwrap();
    proxy.down();
    for (let i = 0; i < 3; i += 1)
      expect((await publisher.publish(event('api'))).isOk()).toBe(true);
    expect(publisher.backpressure()).toMatchObject({
      type: 'PublisherBackpressure',
      retryable: true,
    });
    const refused = await publisher.publish(event('api'));
    expect(refused.isErr() && refused.error.type).toBe('PublisherBackpressure');
    const refusedCli = await publisher.publish(event('cli'));
    expect(refusedCli.isErr() && refusedCli.error.type).toBe('PublisherBackpressure');
    const safety = [event('gc'), event('watch'), event('recovery')];
    for (const e of safety) expect((await publisher.publish(e)).isOk()).toBe(true);
    expect(publisher.state().spooledCount).toBe(6);
    proxy.up();
    expect((await publisher.flush()).isOk()).toBe(true);
    expect(publisher.backpressure()).toBeNull();
    expect((await stored()).slice(-3)).toEqual(safety.map((e) => e.eventId));
    await publisher.close();
  });

  it('keeps what it could not replay for the next start, which replays it', async () => {
    const dir = tempDir();
    dirs.push(dir);
    proxy.down();
    const first = EventBusPublisher.open({ bus, spoolDirectory: dir, retryMs: 50 })._unsafeUnwrap();
    const events = [event('api', 'w-next'), event('watch', 'w-next')];
    expect((await first.publishBatch(events)).isOk()).toBe(true);
    expect((await first.close()).isOk()).toBe(true);
    proxy.up();
    const second = EventBusPublisher.open({
      bus,
      spoolDirectory: dir,
      retryMs: 50,
    })._unsafeUnwrap();
    expect(second.state().spooledCount).toBe(2);
    expect((await second.flush()).isOk()).toBe(true);
    const worker = (await t.bus.store.eventsOfWorker('w-next'))._unsafeUnwrap();
    expect(worker.map((s) => s.event)).toEqual(events);
    await second.close();
  });

  it('keeps an event accepted just before close, and refuses one after it with PublisherClosed', async () => {
    const dir = tempDir();
    dirs.push(dir);
    proxy.down();
    const publisher = EventBusPublisher.open({
      bus,
      spoolDirectory: dir,
      retryMs: 50,
    })._unsafeUnwrap();
    const accepted = event('gc', 'w-close');
    const publishing = publisher.publish(accepted);
    const closing = publisher.close();
    expect((await publishing).isOk()).toBe(true);
    expect((await closing).isOk()).toBe(true);
    const after = await publisher.publish(event('gc', 'w-close'));
    expect(after.isErr() && after.error.type).toBe('PublisherClosed');
    proxy.up();
    const reopened = EventBusPublisher.open({ bus, spoolDirectory: dir })._unsafeUnwrap();
    expect(reopened.state().spooledCount).toBe(1);
    expect((await reopened.flush()).isOk()).toBe(true);
    const worker = (await t.bus.store.eventsOfWorker('w-close'))._unsafeUnwrap();
    expect(worker.map((s) => s.event)).toEqual([accepted]);
    await reopened.close();
  });

  it('refuses an invalid event with InvalidEvent and spools nothing', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const publisher = EventBusPublisher.open({ bus, spoolDirectory: dir })._unsafeUnwrap();
    const bad = {
      ...sampleEvents('p-bad', 'w-bad')[6]!,
      error: 'x'.repeat(100_000),
    } as LifecycleEvent;
    const r = await publisher.publish(bad);
    expect(r.isErr() && r.error.type).toBe('InvalidEvent');
    expect(publisher.state().spooledCount).toBe(0);
    await publisher.close();
  });
});

describe('EventBusPublisher when PostgreSQL answers but fails the append', () => {
  let t: TestEventBus;
  const dir = tempDir();

  beforeAll(async () => {
    t = await createTestEventBus('pubfail');
  });

  afterAll(async () => {
    await t?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spools what a server-side failure refuses (here, a revoked privilege) and stores it once that is fixed', async () => {
    const publisher = EventBusPublisher.open({ bus: t.bus, spoolDirectory: dir })._unsafeUnwrap();
    const events = t.bus.db.withSchema(t.schema);
    await sql`REVOKE INSERT ON ${sql.table(`${t.schema}.events`)} FROM CURRENT_USER`.execute(
      t.bus.db,
    );
    const lost = event('gc', 'w-fail');
    expect((await publisher.publish(lost)).isOk()).toBe(true);
    expect(publisher.state().spooledCount).toBe(1);
    await sql`GRANT INSERT ON ${sql.table(`${t.schema}.events`)} TO CURRENT_USER`.execute(t.bus.db);
    expect((await publisher.flush()).isOk()).toBe(true);
    const stored = await events.selectFrom('events').select('event_id').execute();
    expect(stored.map((r) => r.event_id)).toEqual([lost.eventId]);
    await publisher.close();
  });
});
