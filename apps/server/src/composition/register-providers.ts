import {
  dockerProfile,
  kubernetesProfile,
  LifecycleManagedWorkerProviderBuilder,
  LifecycleManager,
  type EphemeralWorkerPolicy,
  type LifecycleEventPublisher,
  type WorkerProvider,
} from '@hodei/domain';
import { systemClock } from '@hodei/domain/system';
import { connectDocker, DockerWorkerProvider } from '@hodei/docker-adapter';
import { KubernetesStubWorkerProvider, SimulatedCluster } from '@hodei/k8s-stub-adapter';
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { ProviderConfig } from '../config/config.js';
import { instrumentProvider } from '../metrics/instrumented-provider.js';
import { RecoveryGate } from '../passes/recovery-gate.js';
import type { ProviderEntry } from '../workers/worker-service.js';
import type { ServerOptions } from './hodei-server.js';
import { TOKENS } from './tokens.js';

/** A simulated cluster ticking in real time, or all of them. */
export interface Stoppable {
  stop(): void;
}

/**
 * Every configured provider, instrumented, with its manager and decorator unless the flag is
 * off. Returns what stops the simulated clusters the k8s-stub providers start.
 */
export function registerProviders(c: DependencyContainer, options: ServerOptions): Stoppable {
  const clusters: Stoppable[] = [];
  const tickMs = options.clusterTickMs ?? 50;
  c.register(TOKENS.providers, {
    useFactory: instanceCachingFactory((d) => {
      const config = d.resolve(TOKENS.config);
      const metrics = d.resolve(TOKENS.metrics);
      const publisher = d.resolve(TOKENS.publisher);
      return config.providers.map((p): ProviderEntry => {
        const { bare, policy } = bareProvider(d, p, tickMs, clusters);
        const provider = instrumentProvider(bare, p.kind, metrics);
        if (!config.lifecycleEnabled) return { id: p.id, kind: p.kind, provider, policy };
        return withLifecycle(d, { id: p.id, kind: p.kind, provider, policy }, publisher);
      });
    }),
  });
  return {
    stop: () => {
      for (const cluster of clusters) cluster.stop();
    },
  };
}

function bareProvider(
  d: DependencyContainer,
  p: ProviderConfig,
  tickMs: number,
  clusters: Stoppable[],
): { bare: WorkerProvider; policy: EphemeralWorkerPolicy } {
  if (p.kind === 'docker') {
    const config = d.resolve(TOKENS.config);
    const made = DockerWorkerProvider.create({
      providerId: p.id,
      connection: connectDocker(config.dockerHost),
      ...config.dockerWorkers,
      clock: systemClock,
      logger: d.resolve(TOKENS.logger),
    });
    if (made.isErr()) throw new Error(`provider ${p.id}: ${made.error.message}`);
    return { bare: made.value, policy: dockerProfile };
  }
  const cluster = new SimulatedCluster(systemClock, {});
  clusters.push(cluster.runInRealTime(tickMs));
  return {
    bare: new KubernetesStubWorkerProvider({ providerId: p.id, cluster }),
    policy: kubernetesProfile,
  };
}

/** The entry with its lifecycle manager, decorator and recovery gate, or bare when none is made. */
function withLifecycle(
  d: DependencyContainer,
  entry: ProviderEntry,
  publisher: LifecycleEventPublisher,
): ProviderEntry {
  const logger = d.resolve(TOKENS.logger);
  const bus = d.resolve(TOKENS.eventBus);
  const manager = new LifecycleManager({
    provider: entry.provider,
    publisher,
    clock: systemClock,
    ids: d.resolve(TOKENS.ids),
    policy: entry.policy,
    logger,
    // Stops mostly wait on containers: many at once keep a pass short.
    concurrency: 32,
    ...(bus === undefined ? {} : { history: bus.store }),
  });
  const managed = new LifecycleManagedWorkerProviderBuilder(entry.provider)
    .withLifecycleManager(manager)
    .withEventPublisher(publisher)
    .withLogger(logger)
    .build();
  if (managed.isErr()) {
    // The seed's fallback: the bare provider, with a warning.
    logger.warn('lifecycle management unavailable; using the provider bare', {
      provider: entry.id,
      error: managed.error.message,
    });
    return entry;
  }
  return {
    ...entry,
    lifecycle: {
      manager,
      managed: managed.value,
      recovery: new RecoveryGate(entry.id, manager, logger),
    },
  };
}
