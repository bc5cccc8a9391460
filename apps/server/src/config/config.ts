import { redactDatabaseUrl } from '@hodei/postgres-event-bus';
import { err, ok, type Result } from 'neverthrow';
import { readConfigFile, type ConfigFile } from './config-file.js';
import { readDockerProviderConfig, type DockerProviderConfig } from './docker-provider-config.js';
import { ConfigValues, EnvReader, type ConfigProblem, type Env } from './env-reader.js';
import { readEventLogConfig, type EventLogConfig } from './event-log-config.js';
import { readEventStreamLimits, type EventStreamLimits } from './event-stream-limits.js';
import { readHttpLimits, type HttpLimits } from './http-limits.js';
import { readLogLimits } from './log-limits-config.js';
import { readObservabilityConfig, type ObservabilityConfig } from './observability-config.js';
import { readProviderList, readProviderSettings, type ProviderConfig } from './provider-config.js';
import { reportUnknownSettings } from './unknown-settings.js';
import { readWebhookConfig, type WebhookConfig } from './webhook-config.js';
import type { LogLimits } from '../workers/log-response.js';

export type { ConfigProblem } from './env-reader.js';
export type { DockerProviderConfig } from './docker-provider-config.js';
export { dockerProviderOptions } from './docker-provider-config.js';
export type { ProviderConfig } from './provider-config.js';
export { PROVIDER_KINDS, type ProviderKind } from './provider-kinds.js';

export const PUBLISHER_KINDS = ['postgres', 'logger'] as const;
export type PublisherKind = (typeof PUBLISHER_KINDS)[number];

/**
 * SPEC §8: the server's whole configuration, read once at start from the environment over
 * the YAML file named by HODEI_CONFIG_FILE (when set).
 */
export interface ServerConfig {
  /** The configuration file read, when HODEI_CONFIG_FILE names one. */
  readonly configFile: string | undefined;
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
  /** DOCKER_HOST, the engine of a docker provider without its own. */
  readonly dockerHost: string | undefined;
  readonly gcIntervalMs: number;
  readonly reconcileIntervalMs: number;
  readonly workerImage: string;
  /**
   * What every docker provider starts from (limits, log rotation, init and opt-ins of its
   * workers, the images it may pull, network, registry); each provider's own settings are in
   * `providers[i].docker`.
   */
  readonly dockerWorkers: DockerProviderConfig;
  readonly logLimits: LogLimits;
  readonly maxWorkers: number;
  /**
   * HODEI_MAX_LIFETIME_SECONDS in ms: no worker's maxLifetime may pass it, at create or by a
   * change at run time; `undefined`: none but the policy's own 30 days.
   */
  readonly maxLifetimeCapMs: number | undefined;
  readonly removeWorkersOnShutdown: boolean;
  readonly logLevel: string;
  readonly eventStreamLimits: EventStreamLimits;
  /** Log format, request log level, when a failing provider is reported degraded. */
  readonly observability: ObservabilityConfig;
  /** Retention of the event log and the heartbeat of idle deadline passes. */
  readonly eventLog: EventLogConfig;
  /** The webhook allowlist and delivery attempts (webhooks need DATABASE_URL). */
  readonly webhooks: WebhookConfig;
  /** The dashboard at `/ui` (HODEI_UI_ENABLED) and how long its sessions last. */
  readonly ui: { readonly enabled: boolean; readonly sessionTtlMs: number };
}

export const DEFAULT_WORKER_IMAGE = 'hodei/worker:0.1.0';

/** One line per problem: `[file:line: ]name="value" is invalid: it accepts …`. */
export const formatConfigProblems = (problems: readonly ConfigProblem[]): string =>
  problems
    .map((p) => {
      const where = p.file === undefined ? '' : `${p.file}:${p.line ?? 1}: `;
      return p.unknown === true
        ? `${where}${p.variable} is unknown: it accepts ${p.accepts}`
        : `${where}${p.variable}=${JSON.stringify(p.value)} is invalid: it accepts ${p.accepts}`;
    })
    .join('\n');

/**
 * Reads and validates every setting, from the environment and, when HODEI_CONFIG_FILE names
 * one, the YAML file under it (a variable set and not blank wins over the file); lists every
 * problem, naming the variable or the file's key and line, and what it accepts.
 */
export function parseConfig(env: Env): Result<ServerConfig, ConfigProblem[]> {
  const configFile = env['HODEI_CONFIG_FILE']?.trim() || undefined;
  const file: ConfigFile | undefined =
    configFile === undefined ? undefined : readConfigFile(configFile);
  const values = new ConfigValues(env, file?.values);
  for (const problem of file?.problems ?? []) values.add(problem);
  const reader = new EnvReader(values);
  // Read in the order of SPEC §8, so the problems are listed in that order too.
  const http = readHttp(reader);
  const httpLimits = readHttpLimits(reader);
  const dataDir = reader.read('HODEI_DATA_DIR') ?? './.hodei';
  const lifecycleEnabled = reader.boolean('HODEI_LIFECYCLE_ENABLED', true);
  const listed = readProviderList(reader, file);
  const databaseUrl = readDatabaseUrl(reader);
  const publishers = readPublishers(reader, databaseUrl);
  const day = 24 * 3600;
  const seconds = 'whole seconds from 1 to 86400';
  const config: Omit<ServerConfig, 'dockerWorkers' | 'providers'> = {
    configFile,
    ...http,
    httpLimits,
    dataDir,
    lifecycleEnabled,
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
    maxLifetimeCapMs: readMaxLifetimeCap(reader),
    removeWorkersOnShutdown: reader.boolean('HODEI_REMOVE_WORKERS_ON_SHUTDOWN', false),
    logLevel: readLogLevel(reader),
    eventStreamLimits: readEventStreamLimits(reader),
    observability: readObservabilityConfig(reader),
    eventLog: readEventLogConfig(reader),
    webhooks: readWebhookConfig(reader),
    ui: {
      enabled: reader.boolean('HODEI_UI_ENABLED', true),
      sessionTtlMs:
        reader.integer(
          'HODEI_SESSION_TTL_SECONDS',
          43_200,
          1,
          30 * day,
          'whole seconds from 1 to 2592000 (30 days)',
        ) * 1000,
    },
  };
  // Every docker provider's settings: the shared ones first, so a bad shared variable is
  // named once, then each provider's own over them.
  const dockerWorkers = readDockerProviderConfig(reader, config.workerImage);
  const providers = readProviderSettings(reader, listed, config.workerImage);
  // Readers added later go above this line: what no reader asks for is reported unknown.
  reportUnknownSettings(values, env, file, listed);
  return reader.problems.length > 0
    ? err(reader.problems)
    : ok({ ...config, providers, dockerWorkers });
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

function readDatabaseUrl(reader: EnvReader): string | undefined {
  const databaseUrl = reader.read('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    reader.problem(
      'DATABASE_URL',
      redactDatabaseUrl(databaseUrl),
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

function readMaxLifetimeCap(reader: EnvReader): number | undefined {
  const name = 'HODEI_MAX_LIFETIME_SECONDS';
  if (reader.read(name) === undefined) return undefined;
  const max = 30 * 24 * 3600;
  return reader.integer(name, max, 1, max, `whole seconds from 1 to ${max} (30 days)`) * 1000;
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
