import type { PublishError } from '@hodei/domain';
import { lifecycleHarness } from '@hodei/domain/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catchUpSource } from '../composition/event-history.js';
import { LiveEventStream } from '../events/live-event-stream.js';
import { harnessService } from '../workers/harness-service.testing.js';
import { buildHttpApp } from './app.js';

/**
 * Every write route over HTTP while the event publisher is in backpressure: 503
 * `PublisherBackpressure` with Retry-After, and nothing changed (the worker, its resource, the
 * events). The publisher is a seam the test switches; the providers are in memory.
 */

const TOKEN = 'backpressure-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('write routes under publisher backpressure', () => {
  const h = lifecycleHarness({ providerId: 'fake' });
  let pressure = false;
  const gauge = {
    backpressure: (): PublishError | null =>
      pressure
        ? { type: 'PublisherBackpressure', message: 'the spool is full', retryable: true }
        : null,
  };
  let app: FastifyInstance;

  beforeAll(async () => {
    const service = harnessService(h, gauge);
    const live = new LiveEventStream();
    app = await buildHttpApp({
      service,
      live,
      resume: catchUpSource(live, undefined),
      metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
      readiness: () => Promise.resolve({}),
      token: TOKEN,
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers 503 with Retry-After on each write route and changes nothing', async () => {
    const made = await app.inject({
      method: 'POST',
      url: '/v1/workers',
      headers: auth,
      payload: { id: 'agent-1', mode: 'agent', command: ['sleep', 'infinity'] },
    });
    expect(made.statusCode).toBe(201);
    await h.manager.whenIdle();
    const before = h.manager.getWorker('agent-1');
    const resources = h.provider.resourceIds();
    const events = h.publisher.events.length;
    pressure = true;

    const writes = [
      { method: 'POST', url: '/v1/workers', payload: { id: 'agent-2', mode: 'agent' } },
      { method: 'POST', url: '/v1/workers/agent-1/busy' },
      { method: 'POST', url: '/v1/workers/agent-1/ready' },
      {
        method: 'PATCH',
        url: '/v1/workers/agent-1/policy',
        payload: { extendLifetimeBySeconds: 60 },
      },
      { method: 'DELETE', url: '/v1/workers/agent-1' },
      { method: 'DELETE', url: '/v1/workers/agent-1?wait=true' },
    ] as const;
    for (const w of writes) {
      const r = await app.inject({ ...w, headers: auth });
      expect({ route: `${w.method} ${w.url}`, status: r.statusCode }).toEqual({
        route: `${w.method} ${w.url}`,
        status: 503,
      });
      expect(r.json()).toMatchObject({ error: 'PublisherBackpressure' });
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    await h.manager.whenIdle();
    expect(h.manager.getWorker('agent-1')).toEqual(before);
    expect(h.manager.getWorker('agent-2')).toBeUndefined();
    expect(h.provider.resourceIds()).toEqual(resources);
    expect(h.publisher.events.length).toBe(events);

    // A heartbeat records no event: it is taken.
    const beat = await app.inject({
      method: 'POST',
      url: '/v1/workers/agent-1/heartbeat',
      headers: auth,
    });
    expect(beat.statusCode).toBe(200);

    pressure = false;
    const busy = await app.inject({
      method: 'POST',
      url: '/v1/workers/agent-1/busy',
      headers: auth,
    });
    expect(busy.statusCode).toBe(200);
  });
});
