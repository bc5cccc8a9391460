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
import { dockerProviderOptions, type ProviderConfig } from '../config/config.js';
import { instrumentProvider } from '../metrics/instrumented-provider.js';
import { RecoveryGate } from '../passes/recovery-gate.js';
import type { ProviderEntry } from '../workers/worker-service.js';
import { haltingProvider } from './halting-provider.js';
import type { ServerOptions } from './hodei-server.js';
import { TOKENS } from './tokens.js';

/** A simulated cluster ticking in real time, a Docker provider to close, or all of them. */
export interface Stoppable {
  stop(): void;
}

/**
 * Every configured provider, instrumented, with its manager and decorator unless the flag is
 * off. Returns what stops the simulated clusters the k8s-stub providers start and closes the
 * Docker providers (their events streams and followed logs).
 */
export function registerProviders(c: DependencyContainer, options: ServerOptions): Stoppable {
  const toStop: Stoppable[] = [];
  const tickMs = options.clusterTickMs ?? 50;
  c.register(TOKENS.providers, {
    useFactory: instanceCachingFactory((d) => {
      const config = d.resolve(TOKENS.config);
      const metrics = d.resolve(TOKENS.metrics);
      const publisher = d.resolve(TOKENS.publisher);
      return config.providers.map((p): ProviderEntry => {
        const { bare, policy } = bareProvider(d, p, tickMs, toStop);
        const gate = d.resolve(TOKENS.actingGate);
        const provider = haltingProvider(instrumentProvider(bare, p.kind, metrics), gate);
        if (!config.lifecycleEnabled) return { id: p.id, kind: p.kind, provider, policy };
        return withLifecycle(d, { id: p.id, kind: p.kind, provider, policy }, publisher);
      });
    }),
  });
  return {
    stop: () => {
      for (const s of toStop) s.stop();
    },
  };
}

function bareProvider(
  d: DependencyContainer,
  p: ProviderConfig,
  tickMs: number,
  toStop: Stoppable[],
): { bare: WorkerProvider; policy: EphemeralWorkerPolicy } {
  if (p.kind === 'docker') {
    // Each provider its own engine (HODEI_PROVIDER_<ID>_DOCKER_HOST, else DOCKER_HOST).
    const made = DockerWorkerProvider.create({
      providerId: p.id,
      connection: connectDocker(p.docker.dockerHost),
      ...dockerProviderOptions(p.docker),
      clock: systemClock,
      logger: d.resolve(TOKENS.logger),
    });
    if (made.isErr()) throw new Error(`provider ${p.id}: ${made.error.message}`);
    const provider = made.value;
    toStop.push({ stop: () => void provider.close() });
    return { bare: provider, policy: dockerProfile };
  }
  const cluster = new SimulatedCluster(systemClock, {});
  toStop.push(cluster.runInRealTime(tickMs));
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
  const gate = d.resolve(TOKENS.actingGate);
  const bus = d.resolve(TOKENS.eventBus);
  const maxLifetimeCap = d.resolve(TOKENS.config).maxLifetimeCapMs;
  const manager = new LifecycleManager({
    provider: entry.provider,
    publisher,
    clock: systemClock,
    ids: d.resolve(TOKENS.ids),
    policy: entry.policy,
    logger,
    // Stops mostly wait on containers: many at once keep a pass short.
    concurrency: 32,
    gcHeartbeatMs: d.resolve(TOKENS.config).eventLog.gcHeartbeatMs,
    // HODEI_MAX_LIFETIME_SECONDS: no change at run time may pass it.
    ...(maxLifetimeCap === undefined ? {} : { maxLifetimeCap }),
    ...(bus === undefined ? {} : { history: bus.store }),
    // A pass under way when the gate closes changes no worker; its due ones wait for it.
    mayAct: () => gate.acting,
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
      recovery: new RecoveryGate(entry.id, manager, logger, () => gate.actingBut('recovering')),
    },
  };
}
