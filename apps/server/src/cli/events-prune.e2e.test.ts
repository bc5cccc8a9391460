import { randomUUID } from 'node:crypto';
import type { LifecycleEvent } from '@hodei/domain';
import { sampleEvents } from '@hodei/domain/testing';
import { PostgresEventBus } from '@hodei/postgres-event-bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHodei } from '../testing/hodei-child.js';
import { createTestDatabase, type TestDatabase } from '../testing/server-process.js';

/** Events of `workerId` from 2025 (long before any `--before 30d`), with ids of their own. */
const eventsOf = (workerId: string, types: readonly LifecycleEvent['type'][]): LifecycleEvent[] =>
  sampleEvents('prune-cli', workerId)
    .filter((e) => types.includes(e.type))
    .map((e) => ({ ...e, eventId: randomUUID() }));

describe('hodei events prune', () => {
  let db: TestDatabase;
  let bus: PostgresEventBus;

  beforeAll(async () => {
    db = await createTestDatabase();
    bus = PostgresEventBus.create({ connectionString: db.url })._unsafeUnwrap();
    (await bus.ready())._unsafeUnwrap();
    (
      await bus.store.appendBatch([
        ...eventsOf('ended-1', ['WorkerEphemeralCreated', 'WorkerEphemeralCleanedUp']),
        ...eventsOf('alive-1', ['WorkerEphemeralCreated', 'WorkerEphemeralReady']),
      ])
    )._unsafeUnwrap();
  });

  afterAll(async () => {
    await bus?.close();
    await db?.drop();
  });

  it('deletes the events of the lives that ended before the date, and keeps a live one', async () => {
    const run = await runHodei(['events', 'prune', '--before', '30d', '-o', 'json'], {
      DATABASE_URL: db.url,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ workers: 1, events: 2 });
    expect((await bus.store.eventsOfWorker('ended-1'))._unsafeUnwrap()).toEqual([]);
    const alive = (await bus.store.eventsOfWorker('alive-1'))._unsafeUnwrap();
    expect(alive.map((s) => s.event.type)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
    ]);
  });

  it('says what it needs: DATABASE_URL (exit 1), a --before it can read (exit 2)', async () => {
    const env = { DATABASE_URL: '' };
    const noDatabase = await runHodei(['events', 'prune', '--before', '30d'], env);
    expect(noDatabase.code).toBe(1);
    expect(noDatabase.stderr).toContain('set DATABASE_URL');
    const badDate = await runHodei(['events', 'prune', '--before', 'last tuesday'], env);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('"last tuesday" is neither a date');
    const missing = await runHodei(['events', 'prune'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--before');
  });
});
