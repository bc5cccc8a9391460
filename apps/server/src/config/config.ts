import { err, ok, type Result } from 'neverthrow';
import { parseProviderId, type ProviderId } from '@hodei/domain';
import { EnvReader, type ConfigProblem, type Env } from './env-reader.js';
import { readEventStreamLimits, type EventStreamLimits } from './event-stream-limits.js';
import { readHttpLimits, type HttpLimits } from './http-limits.js';
import { readLogLimits } from './log-limits-config.js';
import { readDockerWorkerConfig, type DockerWorkerConfig } from './worker-container-config.js';
import type { LogLimits } from '../workers/log-response.js';

export type { ConfigProblem } from './env-reader.js';

export const PROVIDER_KINDS = ['docker', 'k8s-stub'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];
export const PUBLISHER_KINDS = ['postgres', 'logger'] as const;
export type PublisherKind = (typeof PUBLISHER_KINDS)[number];

export interface ProviderConfig {
  readonly kind: ProviderKind;
  readonly id: ProviderId;
}

/** SPEC §8: the server's whole configuration, read from the environment once at start. */
export interface ServerConfig {
  readonly httpHost: string;
  readonly httpPort: number;
  readonly httpLimits: HttpLimits;
  /** `undefined`: generate one and keep it in `$HODEI_DATA_DIR/api-token`. */
  readonly apiToken: string | undefined;
  readonly dataDir: string;
  readonly lifecycleEnabled: boolean;
  readonly providers: readonly ProviderConfig[];
  readonly publishers: readonly PublisherKind[];
  readonly databaseUrl: string | undefined;
  readonly dockerHost: string | undefined;
  readonly gcIntervalMs: number;
  readonly reconcileIntervalMs: number;
  readonly workerImage: string;
  /** Limits, log rotation, init and opt-ins of Docker workers, and the images it may pull. */
  readonly dockerWorkers: DockerWorkerConfig;
  readonly logLimits: LogLimits;
  readonly maxWorkers: number;
  readonly removeWorkersOnShutdown: boolean;
  readonly logLevel: string;
  readonly eventStreamLimits: EventStreamLimits;
}

export const DEFAULT_WORKER_IMAGE = 'hodei/worker:0.1.0';

export const formatConfigProblems = (problems: readonly ConfigProblem[]): string =>
  problems
    .map((p) => `${p.variable}=${JSON.stringify(p.value)} is invalid: it accepts ${p.accepts}`)
    .join('\n');

/** Reads and validates every variable; lists every problem, naming it and what it accepts. */
export function parseConfig(env: Env): Result<ServerConfig, ConfigProblem[]> {
  const reader = new EnvReader(env);
  // Read in the order of SPEC §8, so the problems are listed in that order too.
  const http = readHttp(reader);
  const httpLimits = readHttpLimits(reader);
  const dataDir = reader.read('HODEI_DATA_DIR') ?? './.hodei';
  const lifecycleEnabled = reader.boolean('HODEI_LIFECYCLE_ENABLED', true);
  const providers = readProviders(reader);
  const databaseUrl = readDatabaseUrl(reader);
  const publishers = readPublishers(reader, databaseUrl);
  const day = 24 * 3600;
  const seconds = 'whole seconds from 1 to 86400';
  const config: Omit<ServerConfig, 'dockerWorkers'> = {
    ...http,
    httpLimits,
    dataDir,
    lifecycleEnabled,
    providers,
    publishers,
    databaseUrl,
    dockerHost: reader.read('DOCKER_HOST'),
    gcIntervalMs: reader.integer('HODEI_GC_INTERVAL_SECONDS', 30, 1, day, seconds) * 1000,
    reconcileIntervalMs:
      reader.integer('HODEI_RECONCILE_INTERVAL_SECONDS', 30, 1, day, seconds) * 1000,
    workerImage: readWorkerImage(reader),
    logLimits: readLogLimits(reader),
    maxWorkers: reader.integer(
      'HODEI_MAX_WORKERS',
      100,
      1,
      100_000,
      'a whole number of workers per provider from 1 to 100000',
    ),
    removeWorkersOnShutdown: reader.boolean('HODEI_REMOVE_WORKERS_ON_SHUTDOWN', false),
    logLevel: readLogLevel(reader),
    eventStreamLimits: readEventStreamLimits(reader),
  };
  const dockerWorkers = readDockerWorkerConfig(reader, config.workerImage);
  return reader.problems.length > 0 ? err(reader.problems) : ok({ ...config, dockerWorkers });
}

function readHttp(reader: EnvReader): Pick<ServerConfig, 'httpHost' | 'httpPort' | 'apiToken'> {
  const httpHost = reader.read('HODEI_HTTP_HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(httpHost)) {
    reader.problem('HODEI_HTTP_HOST', httpHost, 'a host name or an IP address to listen on');
  }
  const httpPort = reader.integer(
    'HODEI_HTTP_PORT',
    8080,
    0,
    65_535,
    'a TCP port from 0 to 65535 (0: any free port)',
  );
  const apiToken = reader.read('HODEI_API_TOKEN');
  if (apiToken !== undefined && (apiToken.length < 16 || /\s/.test(apiToken))) {
    reader.problem(
      'HODEI_API_TOKEN',
      '<redacted>',
      'a token of at least 16 characters without spaces, or unset to generate one',
    );
  }
  return { httpHost, httpPort, apiToken };
}

function readProviders(reader: EnvReader): ProviderConfig[] {
  const providers: ProviderConfig[] = [];
  const raw = reader.read('HODEI_PROVIDERS') ?? 'docker';
  const accepts =
    "a comma list of <kind>[:<id>], kinds 'docker' and 'k8s-stub', ids of lowercase letters, digits and '-' (at most 50)";
  const seen = new Set<string>();
  for (const item of raw.split(',').map((s) => s.trim())) {
    const parts = item.split(':');
    const [kind, id = kind] = parts;
    if (parts.length > 2) {
      reader.problem(
        'HODEI_PROVIDERS',
        raw,
        `${accepts}; ${JSON.stringify(item)} has more than one ':'`,
      );
      continue;
    }
    if (!(PROVIDER_KINDS as readonly string[]).includes(kind ?? '')) {
      reader.problem('HODEI_PROVIDERS', raw, `${accepts}; unknown kind ${JSON.stringify(kind)}`);
      continue;
    }
    const parsed = parseProviderId(id);
    if (parsed.isErr()) {
      reader.problem('HODEI_PROVIDERS', raw, `${accepts}; invalid id ${JSON.stringify(id)}`);
      continue;
    }
    if (seen.has(parsed.value)) {
      reader.problem(
        'HODEI_PROVIDERS',
        raw,
        `${accepts}; each id once, but ${JSON.stringify(id)} repeats`,
      );
      continue;
    }
    seen.add(parsed.value);
    providers.push({ kind: kind as ProviderKind, id: parsed.value });
  }
  return providers;
}

function readDatabaseUrl(reader: EnvReader): string | undefined {
  const databaseUrl = reader.read('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    reader.problem(
      'DATABASE_URL',
      databaseUrl.replace(/:[^:@/]*@/, ':***@'),
      'a postgres:// or postgresql:// connection URL',
    );
  }
  return databaseUrl;
}

function readPublishers(reader: EnvReader, databaseUrl: string | undefined): PublisherKind[] {
  const raw =
    reader.read('HODEI_EVENT_PUBLISHER') ??
    (databaseUrl === undefined ? 'logger' : 'postgres,logger');
  const publishers: PublisherKind[] = [];
  for (const item of raw.split(',').map((s) => s.trim())) {
    if (!(PUBLISHER_KINDS as readonly string[]).includes(item)) {
      reader.problem(
        'HODEI_EVENT_PUBLISHER',
        raw,
        "a comma list of 'postgres' and 'logger' (the live stream is always on)",
      );
    } else if (!publishers.includes(item as PublisherKind)) {
      publishers.push(item as PublisherKind);
    }
  }
  if (publishers.includes('postgres') && databaseUrl === undefined) {
    reader.problem('HODEI_EVENT_PUBLISHER', raw, "'postgres' only together with DATABASE_URL");
  }
  return publishers;
}

function readWorkerImage(reader: EnvReader): string {
  const workerImage = reader.read('HODEI_WORKER_IMAGE') ?? DEFAULT_WORKER_IMAGE;
  if (/[\s;&|$`'"\\]/.test(workerImage)) {
    reader.problem(
      'HODEI_WORKER_IMAGE',
      workerImage,
      'an image reference such as hodei/worker:0.1.0',
    );
  }
  return workerImage;
}

function readLogLevel(reader: EnvReader): string {
  const logLevel = reader.read('HODEI_LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    reader.problem(
      'HODEI_LOG_LEVEL',
      logLevel,
      'one of fatal, error, warn, info, debug, trace, silent',
    );
  }
  return logLevel;
}
