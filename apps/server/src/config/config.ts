import { err, ok, type Result } from 'neverthrow';
import { parseProviderId, type ProviderId } from '@hodei/domain';

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
  readonly maxWorkers: number;
  readonly removeWorkersOnShutdown: boolean;
  readonly logLevel: string;
}

export interface ConfigProblem {
  readonly variable: string;
  readonly value: string;
  readonly accepts: string;
}

export const DEFAULT_WORKER_IMAGE = 'hodei/worker:0.1.0';

export const formatConfigProblems = (problems: readonly ConfigProblem[]): string =>
  problems
    .map((p) => `${p.variable}=${JSON.stringify(p.value)} is invalid: it accepts ${p.accepts}`)
    .join('\n');

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates every variable; lists every problem, naming it and what it accepts. */
export function parseConfig(env: Env): Result<ServerConfig, ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const problem = (variable: string, value: string, accepts: string): void => {
    problems.push({ variable, value, accepts });
  };

  const integer = (
    name: string,
    fallback: number,
    min: number,
    max: number,
    accepts: string,
  ): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problem(name, raw, accepts);
      return fallback;
    }
    return Number(raw);
  };
  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lower)) return true;
    if (['false', '0', 'no', 'off'].includes(lower)) return false;
    problem(name, raw, 'true or false (also 1/0, yes/no, on/off)');
    return fallback;
  };

  const httpHost = read('HODEI_HTTP_HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(httpHost)) {
    problem('HODEI_HTTP_HOST', httpHost, 'a host name or an IP address to listen on');
  }
  const httpPort = integer(
    'HODEI_HTTP_PORT',
    8080,
    0,
    65_535,
    'a TCP port from 0 to 65535 (0: any free port)',
  );

  const apiToken = read('HODEI_API_TOKEN');
  if (apiToken !== undefined && (apiToken.length < 16 || /\s/.test(apiToken))) {
    problem(
      'HODEI_API_TOKEN',
      '<redacted>',
      'a token of at least 16 characters without spaces, or unset to generate one',
    );
  }

  const dataDir = read('HODEI_DATA_DIR') ?? './.hodei';
  const lifecycleEnabled = boolean('HODEI_LIFECYCLE_ENABLED', true);

  const providers: ProviderConfig[] = [];
  const providersRaw = read('HODEI_PROVIDERS') ?? 'docker';
  const seen = new Set<string>();
  for (const item of providersRaw.split(',').map((s) => s.trim())) {
    const parts = item.split(':');
    const [kind, id = kind] = parts;
    const accepts =
      "a comma list of <kind>[:<id>], kinds 'docker' and 'k8s-stub', ids of lowercase letters, digits and '-' (at most 50)";
    if (parts.length > 2) {
      problem(
        'HODEI_PROVIDERS',
        providersRaw,
        `${accepts}; ${JSON.stringify(item)} has more than one ':'`,
      );
      continue;
    }
    if (!(PROVIDER_KINDS as readonly string[]).includes(kind ?? '')) {
      problem('HODEI_PROVIDERS', providersRaw, `${accepts}; unknown kind ${JSON.stringify(kind)}`);
      continue;
    }
    const parsed = parseProviderId(id);
    if (parsed.isErr()) {
      problem('HODEI_PROVIDERS', providersRaw, `${accepts}; invalid id ${JSON.stringify(id)}`);
      continue;
    }
    if (seen.has(parsed.value)) {
      problem(
        'HODEI_PROVIDERS',
        providersRaw,
        `${accepts}; each id once, but ${JSON.stringify(id)} repeats`,
      );
      continue;
    }
    seen.add(parsed.value);
    providers.push({ kind: kind as ProviderKind, id: parsed.value });
  }

  const databaseUrl = read('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problem(
      'DATABASE_URL',
      databaseUrl.replace(/:[^:@/]*@/, ':***@'),
      'a postgres:// or postgresql:// connection URL',
    );
  }
  const publishersRaw =
    read('HODEI_EVENT_PUBLISHER') ?? (databaseUrl === undefined ? 'logger' : 'postgres,logger');
  const publishers: PublisherKind[] = [];
  for (const item of publishersRaw.split(',').map((s) => s.trim())) {
    if (!(PUBLISHER_KINDS as readonly string[]).includes(item)) {
      problem(
        'HODEI_EVENT_PUBLISHER',
        publishersRaw,
        "a comma list of 'postgres' and 'logger' (the live stream is always on)",
      );
    } else if (!publishers.includes(item as PublisherKind)) {
      publishers.push(item as PublisherKind);
    }
  }
  if (publishers.includes('postgres') && databaseUrl === undefined) {
    problem('HODEI_EVENT_PUBLISHER', publishersRaw, "'postgres' only together with DATABASE_URL");
  }

  const day = 24 * 3600;
  const gcIntervalMs =
    integer('HODEI_GC_INTERVAL_SECONDS', 30, 1, day, 'whole seconds from 1 to 86400') * 1000;
  const reconcileIntervalMs =
    integer('HODEI_RECONCILE_INTERVAL_SECONDS', 30, 1, day, 'whole seconds from 1 to 86400') * 1000;
  const workerImage = read('HODEI_WORKER_IMAGE') ?? DEFAULT_WORKER_IMAGE;
  if (/[\s;&|$`'"\\]/.test(workerImage)) {
    problem('HODEI_WORKER_IMAGE', workerImage, 'an image reference such as hodei/worker:0.1.0');
  }
  const maxWorkers = integer(
    'HODEI_MAX_WORKERS',
    100,
    1,
    100_000,
    'a whole number of workers per provider from 1 to 100000',
  );
  const removeWorkersOnShutdown = boolean('HODEI_REMOVE_WORKERS_ON_SHUTDOWN', false);
  const logLevel = read('HODEI_LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problem('HODEI_LOG_LEVEL', logLevel, 'one of fatal, error, warn, info, debug, trace, silent');
  }

  if (problems.length > 0) return err(problems);
  return ok({
    httpHost,
    httpPort,
    apiToken,
    dataDir,
    lifecycleEnabled,
    providers,
    publishers,
    databaseUrl,
    dockerHost: read('DOCKER_HOST'),
    gcIntervalMs,
    reconcileIntervalMs,
    workerImage,
    maxWorkers,
    removeWorkersOnShutdown,
    logLevel,
  });
}
