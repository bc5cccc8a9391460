import type { WorkerEventHistory } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import { LifecycleManager } from '../lifecycle/lifecycle-manager.js';
import type { EphemeralWorkerPolicy } from '../policy/policy.js';
import { dockerProfile } from '../policy/profiles.js';
import type { WorkerHandle, WorkerSpec } from '../ports/worker-provider.port.js';
import {
  LifecycleManagedWorkerProviderBuilder,
  type LifecycleManagedWorkerProvider,
} from '../provider/lifecycle-managed-worker-provider.js';
import type { ProviderId, WorkerId } from '../worker/ids.js';
import { InMemoryWorkerProvider } from './in-memory-worker-provider.js';
import { ManualClock } from './manual-clock.js';
import { RecordingPublisher } from './recording-publisher.js';
import { SequentialIdGenerator } from './sequential-id-generator.js';

export interface LifecycleHarness {
  readonly clock: ManualClock;
  readonly ids: SequentialIdGenerator;
  readonly provider: InMemoryWorkerProvider;
  readonly publisher: RecordingPublisher;
  readonly manager: LifecycleManager;
  readonly managed: LifecycleManagedWorkerProvider;
  readonly policy: EphemeralWorkerPolicy;
  /** Creates a worker through the decorator; throws if it fails. */
  create(overrides?: Partial<WorkerSpec>): Promise<WorkerHandle>;
  /** Moves the clock, lets the fake provider notice what finished, and the manager hear it. */
  advance(ms: number): Promise<void>;
  /** A second manager over the same provider, as after a restart. */
  restart(options?: { history?: WorkerEventHistory }): LifecycleManager;
}

/**
 * The domain wired to its fakes: manual clock, sequential ids, in-memory provider, recording
 * publisher, a manager watching the provider, and the decorator in front.
 */
export function lifecycleHarness(
  options: {
    policy?: EphemeralWorkerPolicy;
    providerId?: string;
    /** Another in-memory provider (a subclass with slower calls, say) over the same clock. */
    provider?: (providerId: ProviderId, clock: ManualClock) => InMemoryWorkerProvider;
    logger?: Logger;
    stopConcurrency?: number;
    /** The operator's cap on maxLifetime for policy changes (ms), kept over restarts. */
    maxLifetimeCap?: number;
    /** Another clock (one that follows fake timers, say); a new ManualClock by default. */
    clock?: ManualClock;
    /** Whether the manager may act now (see `LifecycleManagerDeps.mayAct`); always by default. */
    mayAct?: () => boolean;
  } = {},
): LifecycleHarness {
  const clock = options.clock ?? new ManualClock();
  const ids = new SequentialIdGenerator();
  const policy = options.policy ?? dockerProfile;
  const providerId = (options.providerId ?? 'fake') as ProviderId;
  const provider =
    options.provider?.(providerId, clock) ?? new InMemoryWorkerProvider(providerId, clock);
  const publisher = new RecordingPublisher();
  const manager = new LifecycleManager({
    provider,
    publisher,
    clock,
    ids,
    policy,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.stopConcurrency === undefined ? {} : { stopConcurrency: options.stopConcurrency }),
    ...(options.maxLifetimeCap === undefined ? {} : { maxLifetimeCap: options.maxLifetimeCap }),
    ...(options.mayAct === undefined ? {} : { mayAct: options.mayAct }),
  });
  manager.startWatching();
  const managed = new LifecycleManagedWorkerProviderBuilder(provider)
    .withLifecycleManager(manager)
    .withEventPublisher(publisher)
    .build()
    ._unsafeUnwrap();
  return {
    clock,
    ids,
    provider,
    publisher,
    manager,
    managed,
    policy,
    create: async (overrides = {}) => {
      const result = await managed.createWorker({
        workerId: ids.workerId(),
        mode: 'job',
        image: 'hodei/worker:test',
        command: ['sleep', 'infinity'],
        policy,
        ...overrides,
      });
      if (result.isErr()) throw new Error(`create failed: ${JSON.stringify(result.error)}`);
      await manager.whenIdle();
      return result.value;
    },
    advance: async (ms) => {
      clock.advance(ms);
      provider.settle();
      await manager.whenIdle();
    },
    restart: (restartOptions = {}) =>
      new LifecycleManager({
        provider,
        publisher,
        clock,
        ids,
        policy,
        ...(restartOptions.history === undefined ? {} : { history: restartOptions.history }),
        ...(options.maxLifetimeCap === undefined ? {} : { maxLifetimeCap: options.maxLifetimeCap }),
      }),
  };
}

export const asWorkerId = (id: string): WorkerId => id as WorkerId;
