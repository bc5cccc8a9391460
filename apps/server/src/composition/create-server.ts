import 'reflect-metadata';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import {
  dockerProfile,
  kubernetesProfile,
  LifecycleManagedWorkerProviderBuilder,
  LifecycleManager,
  type LifecycleEvent,
  type LifecycleEventPublisher,
  type WatchSubscription,
  type WorkerProvider,
} from '@hodei/domain';
import { systemClock, UuidV7IdGenerator } from '@hodei/domain/system';
import { connectDocker, DockerWorkerProvider } from '@hodei/docker-adapter';
import { KubernetesStubWorkerProvider, SimulatedCluster } from '@hodei/k8s-stub-adapter';
import { createPinoLogger, PinoEventPublisher } from '@hodei/logger-publisher';
import { EventBusPublisher, PostgresEventBus, redactDatabaseUrl } from '@hodei/postgres-event-bus';
import type { FastifyInstance } from 'fastify';
import { err, ok, type Result } from 'neverthrow';
import pino from 'pino';
import {
  container as rootContainer,
  instanceCachingFactory,
  type DependencyContainer,
} from 'tsyringe';
import type { ServerConfig } from '../config/config.js';
import { FanoutPublisher } from '../events/fanout-publisher.js';
import { LiveEventStream } from '../events/live-event-stream.js';
import { buildHttpApp, type ReadinessCheck } from '../http/app.js';
import { instrumentProvider } from '../metrics/instrumented-provider.js';
import { Metrics } from '../metrics/metrics.js';
import { PassScheduler } from '../passes/pass-scheduler.js';
import { RecoveryGate } from '../passes/recovery-gate.js';
import {
  WorkerService,
  type HistorySource,
  type ProviderEntry,
} from '../workers/worker-service.js';
import { ProviderLocks } from './provider-locks.js';
import { TOKENS } from './tokens.js';

export interface StartError {
  readonly type: 'StartFailed';
  readonly message: string;
}

export interface ServerOptions {
  /** Where logs go; stdout by default. */
  readonly logDestination?: number | string;
  /** SSE heartbeat period; 15 s by default. */
  readonly heartbeatMs?: number;
  /** Tick period of simulated clusters; 250 ms by default. */
  readonly clusterTickMs?: number;
}

export interface HodeiServer {
  readonly config: ServerConfig;
  readonly container: DependencyContainer;
  readonly service: WorkerService;
  readonly live: LiveEventStream;
  readonly app: FastifyInstance;
  readonly url: string;
  readonly token: string;
  readonly tokenFile: string | undefined;
  /** Stops accepting, finishes in-flight work, stops the passes, flushes and closes everything. */
  stop(): Promise<void>;
}

const startFailed = (message: string): StartError => ({ type: 'StartFailed', message });

/** The API token: given, or generated once and kept in `$HODEI_DATA_DIR/api-token` (0600). */
async function resolveToken(
  config: ServerConfig,
): Promise<{ token: string; file: string | undefined }> {
  if (config.apiToken !== undefined) return { token: config.apiToken, file: undefined };
  const dir = resolve(config.dataDir);
  const file = join(dir, 'api-token');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 16) {
      await chmod(file, 0o600);
      return { token: existing, file };
    }
  } catch {
    // none yet
  }
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}

/**
 * The composition root (SPEC §8, ADR 0003): registers every component as a factory on a child
 * container, resolves every root token at boot, then starts in order — migrations, spool replay,
 * provider locks, recovery of every provider, the passes, the API.
 */
export async function createServer(
  config: ServerConfig,
  options: ServerOptions = {},
): Promise<Result<HodeiServer, StartError>> {
  const c = rootContainer.createChildContainer();
  const shutdown: { name: string; run: () => Promise<unknown> }[] = [];
  const onStop = (name: string, run: () => Promise<unknown>) => shutdown.push({ name, run });
  const stopAll = async () => {
    for (const step of shutdown.reverse()) {
      try {
        await step.run();
      } catch {
        // keep closing the rest
      }
    }
    shutdown.length = 0;
  };

  const pinoLogger = pino(
    {
      level: config.logLevel,
      base: { service: 'hodei' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: options.logDestination ?? 1, sync: true }),
  );
  const logger = createPinoLogger({ logger: pinoLogger });
  if (logger.isErr()) return err(startFailed(`logger: ${logger.error.message}`));

  c.register(TOKENS.config, { useValue: config });
  c.register(TOKENS.clock, { useValue: systemClock });
  c.register(TOKENS.ids, {
    useFactory: instanceCachingFactory(() => new UuidV7IdGenerator(systemClock)),
  });
  c.register(TOKENS.pino, { useValue: pinoLogger });
  c.register(TOKENS.logger, { useValue: logger.value });
  c.register(TOKENS.live, { useFactory: instanceCachingFactory(() => new LiveEventStream()) });

  // ---- PostgreSQL: the event bus (migrations), its publisher (spool) and the provider locks
  let bus: PostgresEventBus | undefined;
  let busPublisher: EventBusPublisher | undefined;
  let locks: ProviderLocks | undefined;
  if (config.databaseUrl !== undefined) {
    const created = PostgresEventBus.create({
      connectionString: config.databaseUrl,
      applicationName: 'hodei-server',
      logger: logger.value,
    });
    if (created.isErr()) return err(startFailed(created.error.message));
    bus = created.value;
    const migrated = await bus.ready();
    if (migrated.isErr()) {
      await bus.close();
      return err(
        startFailed(
          `PostgreSQL at ${redactDatabaseUrl(config.databaseUrl)} (DATABASE_URL): ${migrated.error.message}`,
        ),
      );
    }
    onStop('event bus', () => bus!.close());
    if (config.publishers.includes('postgres')) {
      const opened = EventBusPublisher.open({
        bus,
        spoolDirectory: resolve(config.dataDir),
        clock: systemClock,
        logger: logger.value,
      });
      if (opened.isErr()) {
        await stopAll();
        return err(
          startFailed(`event spool in ${resolve(config.dataDir)}: ${opened.error.message}`),
        );
      }
      busPublisher = opened.value;
      // Events spooled by an earlier run go first.
      await busPublisher.flush();
    }
    const acquired = await ProviderLocks.acquire(
      config.databaseUrl,
      config.providers.map((p) => p.id),
      logger.value,
    );
    if (acquired.isErr()) {
      if (busPublisher !== undefined) await busPublisher.close();
      await stopAll();
      return err(startFailed(acquired.error.message));
    }
    locks = acquired.value;
    onStop('provider locks', () => locks!.release());
  }
  c.register(TOKENS.eventBus, { useFactory: () => bus });
  c.register(TOKENS.busPublisher, { useFactory: () => busPublisher });
  c.register(TOKENS.providerLocks, { useFactory: () => locks });

  c.register(TOKENS.publisher, {
    useFactory: instanceCachingFactory((d) => {
      const publishers: LifecycleEventPublisher[] = [];
      const bp = d.resolve(TOKENS.busPublisher);
      if (bp !== undefined) publishers.push(bp);
      if (config.publishers.includes('logger')) {
        const made = PinoEventPublisher.create({ logger: d.resolve(TOKENS.pino) });
        // Resolved at boot: a publisher that cannot be made stops the start, naming why.
        if (made.isErr()) throw new Error(`logger publisher: ${made.error.message}`);
        publishers.push(made.value);
      }
      publishers.push(d.resolve(TOKENS.live));
      return new FanoutPublisher(publishers);
    }),
  });

  let providers: readonly ProviderEntry[] = [];
  c.register(TOKENS.metrics, {
    useFactory: instanceCachingFactory(
      () =>
        new Metrics(
          () => providers,
          () => {
            const s = busPublisher?.state();
            return s === undefined
              ? undefined
              : {
                  spooled: s.spooledCount,
                  oldestAgeMs: s.oldestSpooledAgeMs,
                  connected: s.connected,
                };
          },
        ),
    ),
  });

  // ---- providers, each with its manager and decorator unless the flag is off
  const watches: WatchSubscription[] = [];
  const clusters: { stop(): void }[] = [];
  c.register(TOKENS.providers, {
    useFactory: instanceCachingFactory((d) => {
      const metrics = d.resolve(TOKENS.metrics);
      const publisher = d.resolve(TOKENS.publisher);
      return config.providers.map((p): ProviderEntry => {
        let bare: WorkerProvider;
        let policy;
        if (p.kind === 'docker') {
          const made = DockerWorkerProvider.create({
            providerId: p.id,
            connection: connectDocker(config.dockerHost),
            clock: systemClock,
            logger: logger.value,
          });
          if (made.isErr()) throw new Error(`provider ${p.id}: ${made.error.message}`);
          bare = made.value;
          policy = dockerProfile;
        } else {
          const cluster = new SimulatedCluster(systemClock, {});
          const ticking = cluster.runInRealTime(options.clusterTickMs ?? 250);
          clusters.push(ticking);
          bare = new KubernetesStubWorkerProvider({ providerId: p.id, cluster });
          policy = kubernetesProfile;
        }
        const provider = instrumentProvider(bare, p.kind, metrics);
        if (!config.lifecycleEnabled) return { id: p.id, kind: p.kind, provider, policy };
        const manager = new LifecycleManager({
          provider,
          publisher,
          clock: systemClock,
          ids: d.resolve(TOKENS.ids),
          policy,
          logger: logger.value,
          // Stops mostly wait on containers: many at once keep a pass short.
          concurrency: 32,
          ...(bus === undefined ? {} : { history: bus.store }),
        });
        const managed = new LifecycleManagedWorkerProviderBuilder(provider)
          .withLifecycleManager(manager)
          .withEventPublisher(publisher)
          .withLogger(logger.value)
          .build();
        if (managed.isErr()) {
          // The seed's fallback: the bare provider, with a warning.
          logger.value.warn('lifecycle management unavailable; using the provider bare', {
            provider: p.id,
            error: managed.error.message,
          });
          return { id: p.id, kind: p.kind, provider, policy };
        }
        return {
          id: p.id,
          kind: p.kind,
          provider,
          policy,
          lifecycle: {
            manager,
            managed: managed.value,
            recovery: new RecoveryGate(p.id, manager, logger.value),
          },
        };
      });
    }),
  });

  c.register(TOKENS.history, {
    useFactory: instanceCachingFactory((d): HistorySource => {
      const live = d.resolve(TOKENS.live);
      return {
        eventsOfWorker: async (workerId) => {
          if (bus === undefined) return ok(live.historyOf(workerId) ?? []);
          const stored = await bus.store.eventsOfWorker(workerId, { limit: 10_000 });
          if (stored.isErr()) {
            return err({
              type: 'ProviderUnavailable' as const,
              providerId: 'event-store' as never,
              endpoint: redactDatabaseUrl(config.databaseUrl ?? ''),
              message: `the event store is unavailable: ${stored.error.message}`,
              retryable: true as const,
            });
          }
          // Events still in the spool are not in the store yet: the live memory has them.
          const seen = new Set(stored.value.map((s) => s.event.eventId));
          const recent = (live.historyOf(workerId) ?? []).filter((e) => !seen.has(e.eventId));
          return ok([...stored.value.map((s) => s.event), ...recent]);
        },
      };
    }),
  });

  c.register(TOKENS.service, {
    useFactory: instanceCachingFactory((d) => {
      const metrics = d.resolve(TOKENS.metrics);
      return new WorkerService({
        providers: d.resolve(TOKENS.providers),
        ids: d.resolve(TOKENS.ids),
        defaultImage: config.workerImage,
        maxWorkers: config.maxWorkers,
        history: d.resolve(TOKENS.history),
        logger: logger.value,
        now: () => systemClock.now(),
        observer: {
          gc: (p, s) => metrics.observeGc(p, s),
          reconcile: (p, s) => metrics.observeReconcile(p, s),
        },
        mayRunPasses: () => locks?.held ?? true,
      });
    }),
  });

  c.register(TOKENS.scheduler, {
    useFactory: instanceCachingFactory((d) => {
      const metrics = d.resolve(TOKENS.metrics);
      return new PassScheduler(
        d.resolve(TOKENS.providers),
        { gcIntervalMs: config.gcIntervalMs, reconcileIntervalMs: config.reconcileIntervalMs },
        {
          gc: (p, s) => metrics.observeGc(p, s),
          reconcile: (p, s) => metrics.observeReconcile(p, s),
        },
        logger.value,
        () => locks?.held ?? true,
      );
    }),
  });

  // ---- resolve every root token now: a missing registration fails at start, not later
  try {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tokens of every type
    for (const t of Object.values(TOKENS)) c.resolve(t as never);
  } catch (cause) {
    await stopAll();
    return err(startFailed((cause as Error).message));
  }
  providers = c.resolve(TOKENS.providers);
  const live = c.resolve(TOKENS.live);
  const publisher = c.resolve(TOKENS.publisher);
  const service = c.resolve(TOKENS.service);
  const scheduler = c.resolve(TOKENS.scheduler);
  const metrics = c.resolve(TOKENS.metrics);
  onStop('publishers', async () => {
    await publisher.close();
  });
  onStop('simulated clusters', () => {
    for (const cluster of clusters) cluster.stop();
    return Promise.resolve();
  });

  // ---- recovery before the passes and the API
  for (const entry of providers) {
    const manager = entry.lifecycle?.manager;
    if (manager === undefined) continue;
    const watch = manager.startWatching();
    if (watch !== undefined) watches.push(watch);
    // A provider whose engine is down still starts: /readyz tells, and its passes wait.
    await entry.lifecycle!.recovery.ensure();
  }

  const { token, file: tokenFile } = await resolveToken(config);
  const app = await buildHttpApp({
    service,
    live,
    resume: (eventId) => resumeAfter(eventId, live, bus),
    metrics: () => metrics.render(),
    readiness: () => readiness(providers, bus),
    token,
    logger: pinoLogger,
    onResponse: (method, route, status) =>
      metrics.httpRequests.inc({ method, route, status: String(status) }),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
  });

  scheduler.start();
  let url: string;
  try {
    url = await app.listen({ host: config.httpHost, port: config.httpPort });
  } catch (cause) {
    await scheduler.stop();
    await stopAll();
    return err(
      startFailed(
        `cannot listen on ${config.httpHost}:${config.httpPort} (HODEI_HTTP_HOST/HODEI_HTTP_PORT): ${(cause as Error).message}`,
      ),
    );
  }

  // What a cleanup ends, the service forgets (idempotency digests).
  live.subscribe((e) => {
    if (e.type === 'WorkerEphemeralCleanedUp') service.forget(e.workerId);
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Within the 10 s of SPEC §8: each step gets a slice, and what does not finish in it is
      // left to the next start (a destroy under way is recovered as terminating and finished
      // by the force-remove rule).
      const step = (name: string, ms: number, work: () => Promise<unknown>) =>
        withinBudget(work(), ms).then((done) => {
          if (!done) logger.value.warn('shutdown step cut short', { step: name, budgetMs: ms });
        });
      await step('HTTP', 2_500, () => app.close()); // stop accepting, finish in-flight requests
      await step('passes', 1_500, () => scheduler.stop());
      await step('background destroys', 1_000, () => service.drain());
      if (config.removeWorkersOnShutdown)
        await step('remove workers', 3_000, () => service.removeAll(2_000));
      for (const w of watches) w.close();
      await step('notifications', 500, () =>
        Promise.all(
          providers.flatMap((p) =>
            p.lifecycle === undefined ? [] : [p.lifecycle.manager.whenIdle()],
          ),
        ),
      );
      await stopAll();
    })());

  logger.value.info('server started', {
    url,
    providers: providers.map((p) => p.id),
    lifecycle: config.lifecycleEnabled,
    publishers: config.publishers,
  });
  return ok({ config, container: c, service, live, app, url, token, tokenFile, stop });
}

/** Events after `eventId`: from the event store when there is one, then the live memory. */
/** Whether `work` settled within `ms`; it is not cancelled, only no longer waited for. */
function withinBudget(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    void work.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

async function resumeAfter(
  eventId: string,
  live: LiveEventStream,
  bus: PostgresEventBus | undefined,
): Promise<readonly LifecycleEvent[] | undefined> {
  const recent = live.after(eventId);
  if (bus === undefined) return recent;
  const position = await bus.db
    .withSchema(bus.schema)
    .selectFrom('events')
    .select(['transaction_id', 'global_position'])
    .where('event_id', '=', eventId)
    .executeTakeFirst()
    .catch(() => undefined);
  if (position === undefined) return recent;
  // Page through everything stored after it.
  const stored: LifecycleEvent[] = [];
  let after = { transactionId: position.transaction_id, globalPosition: position.global_position };
  for (;;) {
    const page = await bus.store.readAfter(after, 1_000);
    if (page.isErr()) return recent;
    for (const s of page.value) stored.push(s.event);
    const last = page.value.at(-1);
    if (last === undefined || page.value.length < 1_000) break;
    after = { transactionId: last.transactionId, globalPosition: last.globalPosition };
  }
  const seen = new Set(stored.map((e) => e.eventId));
  const events = stored;
  // Newer events still spooled (not yet in the store) come from memory.
  for (const e of recent ?? []) if (!seen.has(e.eventId)) events.push(e);
  return events;
}

async function readiness(
  providers: readonly ProviderEntry[],
  bus: PostgresEventBus | undefined,
): Promise<Record<string, ReadinessCheck>> {
  const checks: Record<string, ReadinessCheck> = {};
  await Promise.all(
    providers.map(async (p) => {
      const h = await p.provider.health();
      checks[`provider:${p.id}`] = h.isOk()
        ? { ok: true, detail: h.value.detail }
        : { ok: false, detail: h.error.message };
    }),
  );
  if (bus !== undefined) {
    const head = await bus.store.headCursor();
    checks['database'] = head.isOk()
      ? { ok: true, detail: 'reachable' }
      : { ok: false, detail: head.error.message };
  }
  return checks;
}
