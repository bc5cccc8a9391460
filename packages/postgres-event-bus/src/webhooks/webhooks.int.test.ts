import type { LifecycleEvent, LifecycleEventType } from '@hodei/domain';
import { sql } from 'kysely';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../store/cursor.js';
import {
  createTestEventBus,
  type ReceivedRequest,
  startWebhookReceiver,
  type TestEventBus,
  waitUntil,
  type WebhookReceiver,
} from '../testing/index.js';
import { PostgresWebhooks } from './postgres-webhooks.js';
import { UrlAllowlist } from './url-allowlist.js';
import type { PostgresWebhooksOptions } from './webhook.types.js';

let n = 0;
const event = (type: LifecycleEventType, workerId: string, at = '2025-05-01T00:00:00.000Z') => {
  n += 1;
  return {
    eventId: `01960000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`,
    type,
    occurredAt: at,
    providerId: 'p-hook',
    workerId,
  } as LifecycleEvent;
};

interface CloudEventBody {
  readonly id: string;
  readonly type: string;
  readonly subject?: string;
}

const bodyOf = (r: ReceivedRequest): CloudEventBody => JSON.parse(r.body) as CloudEventBody;
const header = (r: ReceivedRequest, name: string): string => String(r.headers[name] ?? '');
const ids = (requests: readonly ReceivedRequest[]) => requests.map((r) => bodyOf(r).id);
const okIds = (requests: readonly ReceivedRequest[]) =>
  ids(requests.filter((r) => r.status >= 200 && r.status < 300));

describe('webhooks against the real PostgreSQL and a real HTTP receiver', () => {
  let t: TestEventBus;
  let receiver: WebhookReceiver;
  const engines: PostgresWebhooks[] = [];

  const engine = (options: Partial<PostgresWebhooksOptions> = {}): PostgresWebhooks => {
    const webhooks = new PostgresWebhooks({
      bus: t.bus,
      allowlist: UrlAllowlist.of([`${new URL(receiver.url).origin}/`])._unsafeUnwrap(),
      retry: { maxAttempts: 4, initialDelayMs: 20, maxDelayMs: 100 },
      pollMs: 100,
      idlePollMs: 50,
      leaseMs: 3_000,
      userAgent: 'hodei/test',
      ...options,
    });
    engines.push(webhooks);
    return webhooks;
  };

  beforeAll(async () => {
    t = await createTestEventBus('hooks');
  });

  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop()));
    await sql`DELETE FROM ${sql.id(t.schema, 'webhooks')}`.execute(t.bus.db);
    await receiver?.close();
  });

  afterAll(async () => {
    await t?.drop();
  });

  it('creates, lists, gets and deletes webhooks, showing the secret only at create', async () => {
    receiver = await startWebhookReceiver();
    const webhooks = engine();
    const created = (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({ url: receiver.url, types: null });
    const listed = (await webhooks.list())._unsafeUnwrap();
    expect(listed.map((w) => w.id)).toEqual([created.id]);
    expect(listed[0]).not.toHaveProperty('secret');
    const got = (await webhooks.get(created.id.toUpperCase()))._unsafeUnwrap();
    expect(got.id).toBe(created.id);
    expect(got).not.toHaveProperty('secret');
    expect(got.delivery).toEqual({
      cursor: created.delivery.cursor,
      delivered: 0,
      failures: 0,
      deadLettered: 0,
      lastDeliveredAt: null,
      lastError: null,
      active: false,
    });
    (await webhooks.delete(created.id))._unsafeUnwrap();
    expect((await webhooks.get(created.id))._unsafeUnwrapErr().type).toBe('WebhookNotFound');
    expect((await webhooks.delete(created.id))._unsafeUnwrapErr().type).toBe('WebhookNotFound');
    const rows = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM ${sql.id(t.schema, 'subscriptions')}
      WHERE name = ${`webhook:${created.id}`}`.execute(t.bus.db);
    expect(rows.rows).toEqual([{ n: 0 }]);
  });

  it('sends only the events of its types, from its creation on, signed as Standard Webhooks verifies', async () => {
    receiver = await startWebhookReceiver();
    const before = event('WorkerEphemeralReady', 'w-before');
    (await t.bus.store.append(before))._unsafeUnwrap();
    const webhooks = engine();
    const created = (
      await webhooks.create({
        url: receiver.url,
        types: ['io.hodei.lifecycle.WorkerEphemeralReady', 'WorkerEphemeralTerminated'],
      })
    )._unsafeUnwrap();
    expect(created.types).toEqual(['WorkerEphemeralReady', 'WorkerEphemeralTerminated']);
    (await webhooks.start())._unsafeUnwrap();
    const stream = [
      event('WorkerEphemeralCreated', 'w-1'),
      event('WorkerEphemeralReady', 'w-1'),
      event('WorkerEphemeralBusy', 'w-1'),
      event('WorkerEphemeralTerminated', 'w-1'),
    ];
    (await t.bus.store.appendBatch(stream))._unsafeUnwrap();
    await waitUntil(() => receiver.requests.length >= 2, 'two deliveries');
    await waitUntil(
      async () => (await webhooks.get(created.id))._unsafeUnwrap().delivery.delivered === 2,
      'the deliveries counted',
    );
    expect(ids(receiver.requests)).toEqual([stream[1]?.eventId, stream[3]?.eventId]);
    const verifier = new StandardWebhook(created.secret);
    for (const r of receiver.requests) {
      expect(r.method).toBe('POST');
      expect(header(r, 'content-type')).toBe('application/cloudevents+json');
      expect(header(r, 'webhook-id')).toBe(bodyOf(r).id);
      expect(header(r, 'user-agent')).toBe('hodei/test');
      expect(() =>
        verifier.verify(r.body, {
          'webhook-id': header(r, 'webhook-id'),
          'webhook-timestamp': header(r, 'webhook-timestamp'),
          'webhook-signature': header(r, 'webhook-signature'),
        }),
      ).not.toThrow();
      expect(() =>
        new StandardWebhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(r.body, {
          'webhook-id': header(r, 'webhook-id'),
          'webhook-timestamp': header(r, 'webhook-timestamp'),
          'webhook-signature': header(r, 'webhook-signature'),
        }),
      ).toThrow();
    }
    expect(bodyOf(receiver.requests[0] as ReceivedRequest)).toMatchObject({
      specversion: '1.0',
      type: 'io.hodei.lifecycle.WorkerEphemeralReady',
      subject: 'w-1',
    });
    const state = (await webhooks.get(created.id))._unsafeUnwrap().delivery;
    expect(state).toMatchObject({ delivered: 2, failures: 0, active: true, lastError: null });
    expect(state.lastDeliveredAt).not.toBeNull();
  });

  it('sends a webhook without types every event but the pass reports, which it gets by naming them', async () => {
    receiver = await startWebhookReceiver();
    const passesReceiver = await startWebhookReceiver();
    try {
      const origins = [receiver.url, passesReceiver.url].map((u) => `${new URL(u).origin}/`);
      const webhooks = engine({ allowlist: UrlAllowlist.of(origins)._unsafeUnwrap() });
      const all = (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
      const passes = (
        await webhooks.create({ url: passesReceiver.url, types: ['GarbageCollectionCompleted'] })
      )._unsafeUnwrap();
      (await webhooks.start())._unsafeUnwrap();
      const stream = [
        event('WorkerEphemeralCreated', 'w-all'),
        event('GarbageCollectionCompleted', 'w-all'),
        event('WorkerEphemeralReady', 'w-all'),
      ];
      (await t.bus.store.appendBatch(stream))._unsafeUnwrap();
      // In log order: had the pass report been sent to `all`, it would be its second delivery.
      const delivered = async (id: string) =>
        (await webhooks.get(id))._unsafeUnwrap().delivery.delivered;
      await waitUntil(
        async () => (await delivered(all.id)) === 2 && (await delivered(passes.id)) === 1,
        'the deliveries counted',
      );
      expect(okIds(receiver.requests)).toEqual([stream[0]?.eventId, stream[2]?.eventId]);
      expect(okIds(passesReceiver.requests)).toEqual([stream[1]?.eventId]);
    } finally {
      await passesReceiver.close();
    }
  });

  it('retries a failed request with the same webhook-id until it succeeds', async () => {
    receiver = await startWebhookReceiver();
    let failuresLeft = 2;
    receiver.respond(() => (failuresLeft-- > 0 ? 500 : 204));
    const webhooks = engine();
    const created = (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
    (await webhooks.start())._unsafeUnwrap();
    const e = event('WorkerEphemeralReady', 'w-retry');
    (await t.bus.store.append(e))._unsafeUnwrap();
    await waitUntil(() => receiver.requests.some((r) => r.status === 204), 'the success');
    expect(receiver.requests.map((r) => [header(r, 'webhook-id'), r.status])).toEqual([
      [e.eventId, 500],
      [e.eventId, 500],
      [e.eventId, 204],
    ]);
    await waitUntil(
      async () => (await webhooks.get(created.id))._unsafeUnwrap().delivery.delivered === 1,
      'the delivery counted',
    );
    expect((await webhooks.get(created.id))._unsafeUnwrap().delivery).toMatchObject({
      delivered: 1,
      failures: 2,
      lastError: null,
      deadLettered: 0,
    });
  });

  it('dead-letters an event after the last try, goes on with the next, and does not follow redirects', async () => {
    receiver = await startWebhookReceiver();
    const poisoned = event('WorkerEphemeralBusy', 'w-dead');
    const next = event('WorkerEphemeralIdle', 'w-dead');
    receiver.respond((r) => (r.body.includes(poisoned.eventId) ? 302 : 200));
    const webhooks = engine({ retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 } });
    const created = (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
    (await webhooks.start())._unsafeUnwrap();
    (await t.bus.store.appendBatch([poisoned, next]))._unsafeUnwrap();
    await waitUntil(() => okIds(receiver.requests).includes(next.eventId), 'the next event');
    expect(ids(receiver.requests)).toEqual([
      poisoned.eventId,
      poisoned.eventId,
      poisoned.eventId,
      next.eventId,
    ]);
    const dead = (await webhooks.deadLetters(created.id))._unsafeUnwrap();
    expect(dead).toEqual([
      expect.objectContaining({
        eventId: poisoned.eventId,
        type: 'WorkerEphemeralBusy',
        workerId: 'w-dead',
        attempts: 3,
        lastError: 'HTTP 302 (redirects are not followed)',
      }),
    ]);
    await waitUntil(
      async () => (await webhooks.get(created.id))._unsafeUnwrap().delivery.delivered === 1,
      'the delivery counted',
    );
    expect((await webhooks.get(created.id))._unsafeUnwrap().delivery).toMatchObject({
      delivered: 1,
      failures: 3,
      deadLettered: 1,
    });
  });

  it('replays from a cursor, from an event id and from a time', async () => {
    receiver = await startWebhookReceiver();
    const webhooks = engine();
    const created = (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
    (await webhooks.start())._unsafeUnwrap();
    const stream = [
      event('WorkerEphemeralCreated', 'w-re', '2025-06-01T00:00:00.000Z'),
      event('WorkerEphemeralReady', 'w-re', '2025-06-01T00:01:00.000Z'),
      event('WorkerEphemeralBusy', 'w-re', '2025-06-01T00:02:00.000Z'),
    ];
    const appended = (await t.bus.store.appendBatch(stream))._unsafeUnwrap();
    const all = stream.map((e) => e.eventId);
    await waitUntil(() => receiver.requests.length === 3, 'the stream');
    const [first, second, third] = all;

    const afterFirst = appended[0]?.cursor ?? '';
    const fromCursor = (await webhooks.replay(created.id, afterFirst))._unsafeUnwrap();
    expect(fromCursor.delivery.cursor).toBe(afterFirst);
    await waitUntil(() => receiver.requests.length === 5, 'the replay from a cursor');
    expect(ids(receiver.requests).slice(3)).toEqual([second, third]);

    (await webhooks.replay(created.id, third ?? ''))._unsafeUnwrap();
    await waitUntil(() => receiver.requests.length === 6, 'the replay from an event id');
    expect(ids(receiver.requests).slice(5)).toEqual([third]);

    (await webhooks.replay(created.id, '2025-06-01T00:00:30Z'))._unsafeUnwrap();
    await waitUntil(() => receiver.requests.length === 8, 'the replay from a time');
    expect(ids(receiver.requests).slice(6)).toEqual([second, third]);
    expect(first).toBe(ids(receiver.requests)[0]);

    const refused = await webhooks.replay(created.id, 'yesterday');
    expect(refused._unsafeUnwrapErr().type).toBe('InvalidReplayFrom');
    const unknown = await webhooks.replay(created.id, '01960000-0000-7000-8000-ffffffffffff');
    expect(unknown._unsafeUnwrapErr().type).toBe('InvalidReplayFrom');
    const head = encodeCursor({
      transactionId: appended[2]?.transactionId ?? '',
      globalPosition: appended[2]?.globalPosition ?? '',
    });
    await waitUntil(
      async () => (await webhooks.get(created.id))._unsafeUnwrap().delivery.cursor === head,
      'the checkpoint back at the head',
    );
  });

  it('refuses targets outside the allowlist, at create and before each delivery', async () => {
    receiver = await startWebhookReceiver();
    const narrow = engine({
      allowlist: UrlAllowlist.of(['https://hooks.example.com/'])._unsafeUnwrap(),
    });
    for (const url of [
      receiver.url,
      'https://hooks.example.com.evil.test/',
      'https://hooks.example.com:444/',
    ]) {
      expect((await narrow.create({ url }))._unsafeUnwrapErr()).toMatchObject({
        type: 'WebhookUrlNotAllowed',
        allowed: ['https://hooks.example.com/'],
      });
    }
    for (const url of [
      'ftp://hooks.example.com/',
      'https://u:p@hooks.example.com/',
      'https://hooks.example.com@evil.test/',
      'hooks',
    ]) {
      expect((await narrow.create({ url }))._unsafeUnwrapErr()).toMatchObject({
        type: 'InvalidWebhook',
        field: 'url',
      });
    }
    expect(
      (
        await narrow.create({ url: 'https://hooks.example.com/x', secret: 'whsec_c2hvcnQ=' })
      )._unsafeUnwrapErr(),
    ).toMatchObject({ type: 'InvalidWebhook', field: 'secret' });
    expect(
      (
        await narrow.create({ url: 'https://hooks.example.com/x', types: ['Nope'] })
      )._unsafeUnwrapErr(),
    ).toMatchObject({ type: 'InvalidWebhook', field: 'types' });
    expect(UrlAllowlist.of(['not a url']).isErr()).toBe(true);

    // Stored when it was allowed; an operator narrowing the list stops the requests.
    const created = (await engine().create({ url: receiver.url }))._unsafeUnwrap();
    (await narrow.start())._unsafeUnwrap();
    (await t.bus.store.append(event('WorkerEphemeralReady', 'w-refused')))._unsafeUnwrap();
    await waitUntil(
      async () => (await narrow.deadLetters(created.id))._unsafeUnwrap().length > 0,
      'the refused event dead-lettered',
    );
    // Refused at once, not retried: the allowlist will not change between the tries.
    expect((await narrow.deadLetters(created.id))._unsafeUnwrap()).toEqual([
      expect.objectContaining({ attempts: 1, lastError: expect.stringMatching(/^url refused: /) }),
    ]);
    expect((await narrow.get(created.id))._unsafeUnwrap().delivery).toMatchObject({
      failures: 1,
      deadLettered: 1,
      lastError: expect.stringMatching(/^url refused: /),
    });
    expect(receiver.requests).toEqual([]);
  });

  it('delivers a webhook created by another process, which a second process does not deliver twice', async () => {
    receiver = await startWebhookReceiver();
    const creator = engine();
    const a = engine();
    const b = engine();
    (await a.start())._unsafeUnwrap();
    (await b.start())._unsafeUnwrap();
    const created = (await creator.create({ url: receiver.url }))._unsafeUnwrap();
    await waitUntil(
      async () => (await creator.get(created.id))._unsafeUnwrap().delivery.active,
      'a process delivering it',
    );
    const stream = [event('WorkerEphemeralReady', 'w-x'), event('WorkerEphemeralBusy', 'w-x')];
    (await t.bus.store.appendBatch(stream))._unsafeUnwrap();
    await waitUntil(() => receiver.requests.length === 2, 'both events');
    expect(ids(receiver.requests)).toEqual(stream.map((e) => e.eventId));
    (await creator.delete(created.id))._unsafeUnwrap();
    await waitUntil(async () => {
      const rows = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM ${sql.id(t.schema, 'subscriptions')}
        WHERE name = ${`webhook:${created.id}`}`.execute(t.bus.db);
      return rows.rows[0]?.n === 0;
    }, 'the deleted webhook retired by the process that delivered it');
    (await t.bus.store.append(event('WorkerEphemeralIdle', 'w-x')))._unsafeUnwrap();
    const marker = (await creator.create({ url: `${receiver.url}?marker` }))._unsafeUnwrap();
    (await t.bus.store.append(event('WorkerEphemeralIdle', 'w-marker')))._unsafeUnwrap();
    await waitUntil(
      () => receiver.requests.some((r) => bodyOf(r).subject === 'w-marker'),
      'the marker webhook delivering',
    );
    expect(receiver.requests.filter((r) => bodyOf(r).subject === 'w-x')).toHaveLength(2);
    expect(marker.id).not.toBe(created.id);
  });

  it('refuses a replay past the log head, with numbers out of range or an impossible date, and goes on delivering', async () => {
    receiver = await startWebhookReceiver();
    const webhooks = engine();
    const created = (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
    (await webhooks.start())._unsafeUnwrap();
    const first = event('WorkerEphemeralReady', 'w-head');
    const [stored] = (await t.bus.store.appendBatch([first]))._unsafeUnwrap();
    await waitUntil(() => okIds(receiver.requests).includes(first.eventId), 'the first event');
    const head = {
      transactionId: stored?.transactionId ?? '0',
      globalPosition: stored?.globalPosition ?? '0',
    };
    const past = [
      encodeCursor({ ...head, globalPosition: String(BigInt(head.globalPosition) + 1000n) }),
      encodeCursor({ ...head, transactionId: String(BigInt(head.transactionId) + 1000n) }),
    ];
    for (const from of past) {
      const refused = (await webhooks.replay(created.id, from))._unsafeUnwrapErr();
      expect(refused).toMatchObject({ type: 'InvalidReplayFrom' });
      expect(refused.message).toContain('after the log head');
    }
    for (const from of [
      encodeCursor({ transactionId: '99999999999999999999', globalPosition: '1' }),
      encodeCursor({ transactionId: '1', globalPosition: '9999999999999999999' }),
      '2025-02-30T00:00:00Z',
      '2025-13-01T00:00:00Z',
      '2025-01-01T24:30:00Z',
    ]) {
      expect((await webhooks.replay(created.id, from))._unsafeUnwrapErr().type).toBe(
        'InvalidReplayFrom',
      );
    }
    const second = event('WorkerEphemeralBusy', 'w-head');
    (await t.bus.store.append(second))._unsafeUnwrap();
    await waitUntil(() => okIds(receiver.requests).includes(second.eventId), 'the next event');
  });

  it('restarts the delivery when moving the checkpoint fails', async () => {
    receiver = await startWebhookReceiver();
    // No table poll to restart it: the replay itself must.
    const webhooks = engine({ pollMs: 600_000 });
    const created = (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
    (await webhooks.start())._unsafeUnwrap();
    const first = event('WorkerEphemeralReady', 'w-move');
    (await t.bus.store.append(first))._unsafeUnwrap();
    await waitUntil(() => okIds(receiver.requests).includes(first.eventId), 'the first event');
    const table = sql.id(t.schema, 'subscriptions');
    const refuse = sql.id(t.schema, 'refuse_backwards');
    await sql`CREATE FUNCTION ${refuse}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'no checkpoint moves back'; END $$`.execute(t.bus.db);
    await sql`CREATE TRIGGER refuse_backwards BEFORE UPDATE ON ${table} FOR EACH ROW
      WHEN (NEW.checkpoint_position < OLD.checkpoint_position) EXECUTE FUNCTION ${refuse}()`.execute(
      t.bus.db,
    );
    try {
      expect((await webhooks.replay(created.id, first.eventId)).isErr()).toBe(true);
    } finally {
      await sql`DROP TRIGGER refuse_backwards ON ${table}`.execute(t.bus.db);
      await sql`DROP FUNCTION ${refuse}()`.execute(t.bus.db);
    }
    const next = event('WorkerEphemeralBusy', 'w-move');
    (await t.bus.store.append(next))._unsafeUnwrap();
    await waitUntil(() => okIds(receiver.requests).includes(next.eventId), 'the next event');
  });

  it('refuses a webhook past the cap', async () => {
    receiver = await startWebhookReceiver();
    const webhooks = engine({ maxWebhooks: 2 });
    (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
    (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
    const refused = (await webhooks.create({ url: receiver.url }))._unsafeUnwrapErr();
    expect(refused).toMatchObject({ type: 'WebhookLimitReached', limit: 2 });
    expect((await webhooks.list())._unsafeUnwrap()).toHaveLength(2);
  });

  it('after a dead letter goes on with the later events of the same worker; a replay from its id sends it and them again, in order', async () => {
    receiver = await startWebhookReceiver();
    const poisoned = event('WorkerEphemeralBusy', 'w-order');
    const later = [
      event('WorkerEphemeralIdle', 'w-order'),
      event('WorkerEphemeralBusy', 'w-order'),
    ];
    receiver.respond((r) => (r.body.includes(poisoned.eventId) ? 500 : 200));
    const webhooks = engine({ retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 } });
    const created = (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
    (await webhooks.start())._unsafeUnwrap();
    (await t.bus.store.appendBatch([poisoned, ...later]))._unsafeUnwrap();
    await waitUntil(
      () => okIds(receiver.requests).length === later.length,
      'the later events, after the dead letter',
    );
    expect(ids(receiver.requests)).toEqual([
      poisoned.eventId,
      poisoned.eventId,
      ...later.map((e) => e.eventId),
    ]);
    receiver.respond(() => 200);
    (await webhooks.replay(created.id, poisoned.eventId))._unsafeUnwrap();
    await waitUntil(() => okIds(receiver.requests).length === 2 * later.length + 1, 'the replay');
    expect(okIds(receiver.requests).slice(later.length)).toEqual(
      [poisoned, ...later].map((e) => e.eventId),
    );
    await waitUntil(
      async () => (await webhooks.deadLetters(created.id))._unsafeUnwrap().length === 0,
      'the dead letter resolved',
    );
  });

  it('gives up on a receiver that does not answer within the request timeout', async () => {
    receiver = await startWebhookReceiver();
    receiver.respond(() => 'hang');
    const webhooks = engine({
      requestTimeoutMs: 200,
      retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 20 },
    });
    const created = (await webhooks.create({ url: receiver.url }))._unsafeUnwrap();
    (await webhooks.start())._unsafeUnwrap();
    const e = event('WorkerEphemeralReady', 'w-slow');
    (await t.bus.store.append(e))._unsafeUnwrap();
    await waitUntil(
      async () => (await webhooks.deadLetters(created.id))._unsafeUnwrap().length === 1,
      'the event dead-lettered',
    );
    expect(receiver.requests.map((r) => header(r, 'webhook-id'))).toEqual([e.eventId, e.eventId]);
    const [dead] = (await webhooks.deadLetters(created.id))._unsafeUnwrap();
    expect(dead).toMatchObject({ attempts: 2, lastError: expect.stringMatching(/timed out/) });
    expect((await webhooks.get(created.id))._unsafeUnwrap().delivery).toMatchObject({
      failures: 2,
      lastError: expect.stringMatching(/timed out/),
    });
  });

  it('sends a request cut by a shutdown again after the restart, with the same webhook-id, not counted as a failure', async () => {
    receiver = await startWebhookReceiver();
    receiver.respond(() => 'hang');
    const first = engine();
    const created = (await first.create({ url: receiver.url }))._unsafeUnwrap();
    (await first.start())._unsafeUnwrap();
    const e = event('WorkerEphemeralReady', 'w-cut');
    (await t.bus.store.append(e))._unsafeUnwrap();
    await waitUntil(() => receiver.requests.length === 1, 'the request in flight');
    await first.stop();
    expect((await first.get(created.id))._unsafeUnwrap().delivery).toMatchObject({
      delivered: 0,
      failures: 0,
      lastError: null,
    });
    receiver.respond(() => 204);
    const second = engine();
    (await second.start())._unsafeUnwrap();
    await waitUntil(() => okIds(receiver.requests).includes(e.eventId), 'the redelivery');
    expect(receiver.requests.map((r) => [header(r, 'webhook-id'), r.status])).toEqual([
      [e.eventId, 0],
      [e.eventId, 204],
    ]);
    await waitUntil(
      async () => (await second.get(created.id))._unsafeUnwrap().delivery.delivered === 1,
      'the delivery counted',
    );
    expect((await second.get(created.id))._unsafeUnwrap().delivery).toMatchObject({
      failures: 0,
      lastError: null,
    });
  });
});
