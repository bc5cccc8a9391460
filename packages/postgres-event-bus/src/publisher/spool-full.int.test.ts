import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LifecycleEvent, Logger } from '@hodei/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../store/event-row.js';
import {
  createTestEventBus,
  type PrivateCluster,
  startPrivateCluster,
  type TestEventBus,
  waitUntil,
} from '../testing/index.js';
import { EventBusPublisher } from './event-bus-publisher.js';

let n = 0;
const gcEvent = (workerId: string, actor: 'gc' | 'watch'): LifecycleEvent => {
  n += 1;
  return {
    eventId: `01950000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
    type: 'WorkerEphemeralBusy',
    occurredAt: new Date(Date.UTC(2025, 0, 1) + n).toISOString(),
    providerId: 'p-full',
    workerId,
    actor,
  };
};

/** Fills the filesystem until a write of one page fails. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const page = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, page);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOSPC') throw cause;
  } finally {
    closeSync(fd);
  }
}

const expectOncePerStreamInOrder = (
  stored: readonly StoredEvent[],
  expected: readonly LifecycleEvent[],
) => {
  const ids = stored.map((s) => s.event.eventId);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(expected.map((e) => e.eventId).sort());
  for (const workerId of new Set(expected.map((e) => ('workerId' in e ? e.workerId : '')))) {
    expect(
      stored.filter((s) => s.streamId === `worker:${workerId}`).map((s) => s.event.eventId),
    ).toEqual(
      expected.filter((e) => 'workerId' in e && e.workerId === workerId).map((e) => e.eventId),
    );
  }
};

describe('EventBusPublisher with a full data directory and PostgreSQL down', () => {
  let cluster: PrivateCluster;
  let t: TestEventBus;
  const dir = mkdtempSync(join(tmpdir(), 'hodei-full-'));
  let mounted = false;

  beforeAll(async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    mounted = true;
    cluster = await startPrivateCluster();
    t = await createTestEventBus('full', { connectionString: cluster.url });
  });

  afterAll(async () => {
    await t?.drop();
    await cluster?.destroy();
    if (mounted) execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports backpressure naming the cause, holds events in memory, and stores them all once space and PostgreSQL are back', async () => {
    const errors: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (message, fields) => errors.push(`${message} ${JSON.stringify(fields)}`),
    };
    const publisher = EventBusPublisher.open({
      bus: t.bus,
      spoolDirectory: dir,
      retryMs: 50,
      maxRetryMs: 200,
      maxBufferedEvents: 30,
      logger,
    })._unsafeUnwrap();
    await cluster.stop('immediate');
    const filler = join(dir, 'filler');
    fill(filler);

    const workers = ['w-full-1', 'w-full-2', 'w-full-3'];
    const held = Array.from({ length: 30 }, (_, i) =>
      gcEvent(workers[i % 3]!, i % 2 ? 'gc' : 'watch'),
    );
    for (const e of held) expect((await publisher.publish(e)).isOk()).toBe(true);
    expect(publisher.state()).toMatchObject({ spooledCount: 0, bufferedCount: 30 });
    const pressure = publisher.backpressure();
    expect(pressure).toMatchObject({ type: 'PublisherBackpressure', retryable: true });
    expect(pressure?.message).toContain('ENOSPC');
    expect(pressure?.message).toContain(join(dir, 'event-spool.log'));

    // Past the memory bound an event is refused, and the refusal is logged.
    const over = gcEvent('w-full-1', 'gc');
    const refused = await publisher.publish(over);
    expect(refused.isErr() && refused.error.type).toBe('PublisherUnavailable');
    expect(errors.some((line) => line.includes(over.eventId))).toBe(true);

    rmSync(filler);
    await waitUntil(
      () => publisher.backpressure() === null && publisher.state().bufferedCount === 0,
      'the held events to reach the spool once space is back',
    );
    expect(publisher.state().spooledCount).toBe(30);
    const later = workers.map((w) => gcEvent(w, 'gc'));
    for (const e of later) expect((await publisher.publish(e)).isOk()).toBe(true);

    await cluster.start();
    await waitUntil(
      () => publisher.state().spooledCount === 0,
      'the spool to drain into PostgreSQL',
    );
    const stored = (await t.bus.store.readFrom(null, { limit: 10_000 }))._unsafeUnwrap();
    expectOncePerStreamInOrder(stored, [...held, ...later]);
    expect((await publisher.close()).isOk()).toBe(true);
  });

  it('sends held events straight to PostgreSQL when it returns before the space does', async () => {
    const publisher = EventBusPublisher.open({
      bus: t.bus,
      spoolDirectory: dir,
      retryMs: 50,
      maxRetryMs: 200,
    })._unsafeUnwrap();
    await cluster.stop('immediate');
    const filler = join(dir, 'filler');
    fill(filler);
    const held = Array.from({ length: 12 }, (_, i) => gcEvent(`w-direct-${i % 2}`, 'watch'));
    for (const e of held) expect((await publisher.publish(e)).isOk()).toBe(true);
    expect(publisher.backpressure()?.type).toBe('PublisherBackpressure');
    await cluster.start();
    await waitUntil(
      () => publisher.state().bufferedCount === 0 && publisher.backpressure() === null,
      'the held events to reach PostgreSQL',
    );
    const stored = (await t.bus.store.readFrom(null, { limit: 10_000 }))._unsafeUnwrap();
    expectOncePerStreamInOrder(
      stored.filter((s) => s.streamId.startsWith('worker:w-direct-')),
      held,
    );
    rmSync(filler);
    expect((await publisher.close()).isOk()).toBe(true);
  });
});
