import { ok, ResultAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import type { LogFields, Logger } from '../ports/logger.port.js';
import type {
  DestroyOptions,
  WorkerHandle,
  WorkerProviderError,
} from '../ports/worker-provider.port.js';
import { InMemoryWorkerProvider } from '../testing/in-memory-worker-provider.js';
import { lifecycleHarness } from '../testing/lifecycle-harness.js';
import { ManualClock } from '../testing/manual-clock.js';
import type { ProviderId } from '../worker/ids.js';
import { DEFAULT_GC_HEARTBEAT_MS } from '../events/gc-stats.js';
import { RecordingPublisher } from '../testing/recording-publisher.js';
import { SequentialIdGenerator } from '../testing/sequential-id-generator.js';
import { silentLogger } from '../ports/logger.port.js';
import { BackgroundStops } from './background-stops.js';
import { DeadlinePass } from './deadline-pass.js';
import { newLifecycleCounters } from './lifecycle-counters.js';
import { LifecycleEventEmitter } from './lifecycle-event-emitter.js';

const s = (seconds: number) => seconds * 1000;
const GRACE = s(30);

const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .ttlAfterCompletion(s(600))
  .gracefulTerminationTimeout(GRACE)
  .startupTimeout(s(30))
  .build()
  ._unsafeUnwrap();

/**
 * A provider whose PID 1 ignores SIGTERM: a stop returns only once the fake clock has moved
 * past its grace period (and `release` is called), then the resource is killed.
 */
class GraceTakingProvider extends InMemoryWorkerProvider {
  readonly #clock: ManualClock;
  readonly #pending: { at: number; release: () => void }[] = [];
  /** Stops asked for, returned or not. */
  stopCalls = 0;
  inFlight = 0;
  maxInFlight = 0;

  constructor(providerId: ProviderId, clock: ManualClock) {
    super(providerId, clock);
    this.#clock = clock;
  }

  override stopWorker(
    handle: WorkerHandle,
    options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    this.stopCalls += 1;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const waited = new Promise<void>((release) =>
      this.#pending.push({ at: this.#clock.now() + options.gracePeriod, release }),
    );
    return new ResultAsync(
      waited.then(() => {
        this.inFlight -= 1;
        return super.stopWorker(handle, options);
      }),
    );
  }

  /** Lets the stops whose grace period is over at the clock's time return. */
  release(): void {
    const now = this.#clock.now();
    for (const p of this.#pending.filter((q) => q.at <= now)) p.release();
    this.#pending.splice(0, this.#pending.length, ...this.#pending.filter((q) => q.at > now));
  }
}

class RecordingLogger implements Logger {
  readonly lines: { level: string; message: string; fields?: LogFields }[] = [];
  debug = (message: string, fields?: LogFields) => this.#log('debug', message, fields);
  info = (message: string, fields?: LogFields) => this.#log('info', message, fields);
  warn = (message: string, fields?: LogFields) => this.#log('warn', message, fields);
  error = (message: string, fields?: LogFields) => this.#log('error', message, fields);
  #log(level: string, message: string, fields?: LogFields) {
    this.lines.push({ level, message, ...(fields === undefined ? {} : { fields }) });
  }
}

/** Lets every settled promise chain run: the fakes answer in microtasks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function slowHarness(options: { stopConcurrency?: number } = {}) {
  let slow: GraceTakingProvider | undefined;
  const logger = new RecordingLogger();
  const h = lifecycleHarness({
    policy,
    logger,
    ...options,
    provider: (id, clock) => (slow = new GraceTakingProvider(id, clock)),
  });
  if (slow === undefined) throw new Error('provider not built');
  return { h, slow, logger };
}

describe('the deadline pass with stops in the background', () => {
  it('returns before the stops it started complete, the workers left terminating', async () => {
    const { h, slow } = slowHarness();
    const handles = [await h.create(), await h.create(), await h.create()];
    await h.advance(s(600));
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats).toMatchObject({ lifetimeExceeded: 3, errors: 0 });
    await flush();
    expect(slow.inFlight).toBe(3);
    expect(h.manager.stopsInFlight).toBe(3);
    for (const { workerId } of handles)
      expect(h.manager.getWorker(workerId)?.state).toBe('terminating');
    expect(h.publisher.ofType('WorkerEphemeralTerminating')).toHaveLength(3);
  });

  it('finishes a terminating worker by the exit read after its stop', async () => {
    const { h, slow, logger } = slowHarness();
    const handle = await h.create();
    await h.advance(s(600));
    await h.manager.runGcCycle();
    await h.advance(GRACE);
    slow.release();
    await h.manager.whenStopsSettled();
    await h.manager.whenIdle();
    expect(h.manager.getWorker(handle.workerId)).toMatchObject({
      state: 'terminated',
      exitCode: 143,
    });
    expect(h.publisher.ofType('WorkerEphemeralTerminated').at(-1)).toMatchObject({
      workerId: handle.workerId,
      forced: false,
    });
    expect(h.manager.stopsInFlight).toBe(0);
    expect(logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('force-removes a worker whose stop is still under way past grace + 30 s', async () => {
    const { h, slow, logger } = slowHarness();
    const handle = await h.create();
    await h.advance(s(600));
    await h.manager.runGcCycle();
    // The stop never returns in time (the fake is not released).
    await h.advance(GRACE + s(30));
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats.forceTerminated).toBe(1);
    expect(h.provider.has(handle.resourceId)).toBe(false);
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminated');
    expect(h.publisher.ofType('WorkerEphemeralTerminated').at(-1)).toMatchObject({
      workerId: handle.workerId,
      forced: true,
    });
    // The late stop then returns: it changes nothing and logs no failure.
    slow.release();
    await h.manager.whenStopsSettled();
    expect(h.publisher.ofType('WorkerEphemeralTerminated')).toHaveLength(1);
    expect(logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('starts no second stop for a worker whose stop is still under way', async () => {
    const { h, slow } = slowHarness();
    const handle = await h.create();
    await h.advance(s(600));
    await h.manager.runGcCycle();
    for (let i = 0; i < 3; i++) {
      await h.advance(s(5));
      await h.manager.runGcCycle();
      await h.manager.reconcile();
    }
    await flush();
    expect(slow.stopCalls).toBe(1);
    expect(h.manager.stopsInFlight).toBe(1);
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminating');
  });

  it('keeps at most stopConcurrency stops under way, the rest queued in turn', async () => {
    const { h, slow } = slowHarness({ stopConcurrency: 2 });
    for (let i = 0; i < 5; i++) await h.create();
    await h.advance(s(600));
    await h.manager.runGcCycle();
    await flush();
    expect(slow.inFlight).toBe(2);
    expect(h.manager.stopsInFlight).toBe(5);
    for (let round = 0; round < 3; round++) {
      await h.advance(GRACE);
      slow.release();
      await flush();
    }
    await h.manager.whenStopsSettled();
    expect(slow.maxInFlight).toBe(2);
    expect(slow.stopCalls).toBe(5);
    expect(h.manager.listWorkers({ state: 'terminated' })).toHaveLength(5);
  });

  it('stops a worker that failed its startup in the background', async () => {
    const { h, slow } = slowHarness();
    // An agent ready only when it says so stays creating: past its startup timeout it fails.
    const fresh = await h.managed.createWorker({
      workerId: h.ids.workerId(),
      mode: 'agent',
      readiness: 'external',
      image: 'img',
      command: ['sleep', 'infinity'],
      policy,
    });
    const agent = fresh._unsafeUnwrap();
    await h.advance(s(31));
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats.startupTimedOut).toBe(1);
    expect(h.manager.getWorker(agent.workerId)?.state).toBe('failed');
    await flush();
    expect(slow.inFlight).toBe(1);
    await h.advance(GRACE);
    slow.release();
    await h.manager.whenStopsSettled();
    expect(slow.stopped).toContain(agent.resourceId);
  });

  it('logs a failed or throwing stop and goes on, with no unhandled rejection', async () => {
    const { h, slow, logger } = slowHarness();
    const a = await h.create();
    await h.create();
    await h.advance(s(600));
    // One stop throws at once; the other fails once its grace is over.
    h.provider.failNext('stopWorker');
    const stop = slow.stopWorker.bind(slow);
    slow.stopWorker = (handle, options) => {
      if (handle.workerId === a.workerId) throw new Error('socket hang up');
      return stop(handle, options);
    };
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats.lifetimeExceeded).toBe(2);
    await h.advance(GRACE);
    slow.release();
    await h.manager.whenStopsSettled();
    expect(logger.lines.filter((l) => l.level === 'error')).toMatchObject([
      { message: 'background stop threw', fields: { workerId: a.workerId } },
    ]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toMatchObject([
      { message: 'background stop failed' },
    ]);
    expect(h.manager.listWorkers({ state: 'terminating' })).toHaveLength(2);
    // Each failure is an error of one pass, the one during which or after which it failed.
    const next = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats.errors + next.errors).toBe(2);
    expect((await h.manager.runGcCycle())._unsafeUnwrap().errors).toBe(0);
  });

  it('stops a worker re-created under the same id while its predecessor’s stop still hangs', async () => {
    const { h, slow } = slowHarness();
    const ttl = EphemeralWorkerPolicy.builder(policy)
      .ttlAfterCompletion(s(10))
      .build()
      ._unsafeUnwrap();
    const first = await h.create({ workerId: 'w-same' as never, policy: ttl });
    await h.advance(s(600));
    await h.manager.runGcCycle();
    // Its stop never returns: force-removed, then cleaned up, then the id is free again.
    await h.advance(GRACE + s(31));
    await h.manager.runGcCycle();
    await h.advance(s(11));
    await h.manager.runGcCycle();
    expect(h.manager.getWorker('w-same')).toBeUndefined();
    const second = await h.create({ workerId: 'w-same' as never, policy: ttl });
    expect(second.resourceId).not.toBe(first.resourceId);
    await h.advance(s(600));
    await h.manager.runGcCycle();
    await flush();
    expect(slow.stopCalls).toBe(2);
    await h.advance(GRACE);
    slow.release();
    await h.manager.whenStopsSettled();
    expect(h.manager.getWorker('w-same')).toMatchObject({
      resourceId: second.resourceId,
      state: 'terminated',
      exitCode: 143,
    });
  });

  it('close() waits for the stops under way, drops the queued ones and starts no more', async () => {
    const { h, slow } = slowHarness({ stopConcurrency: 1 });
    await h.create();
    await h.create();
    await h.advance(s(600));
    await h.manager.runGcCycle();
    await flush();
    let closed = false;
    const closing = h.manager.close().then(() => (closed = true));
    await flush();
    expect(closed).toBe(false);
    await h.advance(GRACE);
    slow.release();
    await closing;
    expect(slow.stopCalls).toBe(1);
    expect(h.manager.stopsInFlight).toBe(0);
    await h.create();
    await h.advance(s(600));
    await h.manager.runGcCycle();
    await flush();
    expect(slow.stopCalls).toBe(1);
  });
});

describe('BackgroundStops', () => {
  it('declines a second stop of a worker while the first is queued or under way', async () => {
    const stops = new BackgroundStops({ concurrency: 1, logger: new RecordingLogger() });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const work = () => new ResultAsync(gate.then(() => ok(undefined)));
    expect(stops.start({ workerId: 'w1', resourceId: 'r-w1' }, 'terminate', work)).toBe(true);
    expect(stops.start({ workerId: 'w2', resourceId: 'r-w2' }, 'terminate', work)).toBe(true);
    expect(stops.start({ workerId: 'w1', resourceId: 'r-w1' }, 'terminate', work)).toBe(false);
    expect(stops.start({ workerId: 'w2', resourceId: 'r-w2' }, 'terminate', work)).toBe(false);
    expect(stops.size).toBe(2);
    release();
    await stops.settled();
    expect(stops.size).toBe(0);
    expect(stops.start({ workerId: 'w1', resourceId: 'r-w1' }, 'terminate', work)).toBe(true);
    await stops.settled();
  });
});

/**
 * A deadline pass over nothing due, with `orphans` orphans reported since the last pass
 * (each call takes them), publishing to a recording publisher.
 */
function idlePass(heartbeatMs: number | undefined) {
  const clock = new ManualClock();
  const publisher = new RecordingPublisher();
  let orphans = 0;
  const events = new LifecycleEventEmitter({
    providerId: 'p' as ProviderId,
    publisher,
    clock,
    ids: new SequentialIdGenerator(),
    logger: silentLogger,
    counters: newLifecycleCounters(),
  });
  const pass = new DeadlinePass({
    registry: {
      get: () => undefined,
      locked: () => {
        throw new Error('nothing is due');
      },
      popDue: () => [],
      reschedule: () => undefined,
      retryAt: () => undefined,
      store: () => undefined,
      removeResource: () => {
        throw new Error('nothing is due');
      },
      expectGone: () => undefined,
    },
    transitions: {} as never,
    observer: {} as never,
    counters: newLifecycleCounters(),
    orphans: {
      takeDetectedSincePass: () => {
        const n = orphans;
        orphans = 0;
        return n;
      },
    },
    events,
    provider: {} as never,
    stops: { start: () => true, takeFailures: () => 0 },
    clock,
    logger: silentLogger,
    concurrency: 1,
    ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
  });
  return {
    clock,
    published: () => publisher.ofType('GarbageCollectionCompleted'),
    run: async () => (await pass.run())._unsafeUnwrap(),
    reportOrphans: (n: number) => (orphans = n),
  };
}

describe('the deadline pass in the event log', () => {
  it('publishes nothing for a pass that did nothing', async () => {
    const h = lifecycleHarness({ policy });
    await h.create();
    for (let i = 0; i < 10; i++) {
      await h.advance(s(10));
      expect((await h.manager.runGcCycle()).isOk()).toBe(true);
    }
    expect(h.publisher.ofType('GarbageCollectionCompleted')).toEqual([]);
  });

  it('publishes every pass that did something, with its stats', async () => {
    const h = lifecycleHarness({ policy });
    await h.create();
    await h.advance(s(600));
    await h.manager.runGcCycle();
    expect(h.publisher.ofType('GarbageCollectionCompleted')).toMatchObject([
      { lifetimeExceeded: 1, actor: 'gc' },
    ]);
  });

  it('publishes an idle pass as a heartbeat once 5 minutes passed without one, by default', async () => {
    const p = idlePass(undefined);
    p.clock.advance(DEFAULT_GC_HEARTBEAT_MS - 1);
    await p.run();
    expect(p.published()).toEqual([]);
    p.clock.advance(1);
    await p.run();
    expect(p.published()).toMatchObject([{ workersCleaned: 0, errors: 0, orphansDetected: 0 }]);
    // The next heartbeat counts from that one.
    p.clock.advance(DEFAULT_GC_HEARTBEAT_MS - 1);
    await p.run();
    expect(p.published()).toHaveLength(1);
    p.clock.advance(1);
    await p.run();
    expect(p.published()).toHaveLength(2);
  });

  it('counts the heartbeat interval from the last pass published, busy or not', async () => {
    const p = idlePass(s(60));
    p.clock.advance(s(50));
    p.reportOrphans(2);
    await p.run();
    expect(p.published()).toMatchObject([{ orphansDetected: 2 }]);
    p.clock.advance(s(59));
    await p.run();
    expect(p.published()).toHaveLength(1);
    p.clock.advance(s(1));
    await p.run();
    expect(p.published()).toHaveLength(2);
  });

  it('publishes every pass with a heartbeat interval of 0', async () => {
    const p = idlePass(0);
    await p.run();
    await p.run();
    expect(p.published()).toHaveLength(2);
  });
});
