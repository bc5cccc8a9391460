import 'reflect-metadata';
import { parseWorkerId, silentLogger } from '@hodei/domain';
import { systemClock } from '@hodei/domain/system';
import { RecordingPublisher, SequentialIdGenerator } from '@hodei/domain/testing';
import { container } from 'tsyringe';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.js';
import { ActingGate } from './acting-gate.js';
import { registerMetrics } from './register-metrics.js';
import { registerProviders, type Stoppable } from './register-providers.js';
import { TOKENS } from './tokens.js';

/** Polls `check` every 10 ms for at most `timeoutMs`; whether it came true. */
async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return check();
}

const toStop: Stoppable[] = [];
afterAll(() => {
  for (const s of toStop) s.stop();
});

/**
 * The provider is refused its calls while the gate is closed, but a deadline pass under way
 * then must not change the worker either: no termination recorded for a stop never made.
 */
describe('the managers the server builds', () => {
  it('change no worker in a deadline pass while the acting gate is closed', async () => {
    const c = container.createChildContainer();
    const gate = new ActingGate();
    const publisher = new RecordingPublisher();
    const config = parseConfig({ HODEI_PROVIDERS: 'k8s-stub:gated' })._unsafeUnwrap();
    c.register(TOKENS.config, { useValue: config });
    c.register(TOKENS.clock, { useValue: systemClock });
    c.register(TOKENS.logger, { useValue: silentLogger });
    c.register(TOKENS.ids, { useValue: new SequentialIdGenerator() });
    c.register(TOKENS.publisher, { useValue: publisher });
    c.register(TOKENS.eventBus, { useFactory: () => undefined });
    c.register(TOKENS.busPublisher, { useFactory: () => undefined });
    c.register(TOKENS.actingGate, { useValue: gate });
    registerMetrics(c);
    toStop.push(registerProviders(c, { clusterTickMs: 10 }));
    const entry = c.resolve(TOKENS.providers)[0];
    const lifecycle = entry?.lifecycle;
    if (entry === undefined || lifecycle === undefined) throw new Error('no managed provider');
    const watch = lifecycle.manager.startWatching();
    toStop.push({ stop: () => watch?.close() });
    const created = await lifecycle.managed.createWorker({
      workerId: parseWorkerId('a1')._unsafeUnwrap(),
      mode: 'agent',
      image: 'hodei/worker:test',
      command: ['sleep', 'infinity'],
      policy: { ...entry.policy, maxLifetime: 600_000, idleTimeout: 1_000, startupTimeout: 1_000 },
    });
    if (created.isErr()) throw new Error(`create failed: ${JSON.stringify(created.error)}`);
    const state = () => lifecycle.manager.getWorker('a1')?.state;
    expect(await eventually(() => state() === 'ready')).toBe(true);
    // Idle past its idleTimeout: due for the idle rule.
    const idleSince = lifecycle.manager.getWorker('a1')?.lastActivityAt ?? Date.now();
    expect(await eventually(() => Date.now() > idleSince + 1_100)).toBe(true);
    const before = publisher.typesFor('a1').length;

    gate.close('provider lock lost');
    await lifecycle.manager.runGcCycle();
    await lifecycle.manager.whenIdle();
    expect(state()).toBe('ready');
    expect(publisher.typesFor('a1').slice(before)).toEqual([]);

    gate.open('provider lock lost');
    await lifecycle.manager.runGcCycle();
    expect(await eventually(() => state() !== 'ready')).toBe(true);
  });
});
