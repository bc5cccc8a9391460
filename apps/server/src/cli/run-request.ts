import { InvalidArgumentError } from 'commander';
import { err, ok, type Result } from 'neverthrow';

/** `hodei workers run`'s options that shape the create request. */
export interface RunRequestOptions {
  readonly id?: string;
  readonly provider?: string;
  readonly mode?: 'job' | 'agent';
  readonly readiness?: 'container' | 'external';
  readonly env?: Readonly<Record<string, string>>;
  readonly label?: Readonly<Record<string, string>>;
  readonly memory?: number;
  readonly cpus?: number;
  /** Seconds, as the API's policy takes them. */
  readonly maxLifetime?: number;
  readonly ttlAfterCompletion?: number;
  readonly idleTimeout?: number;
  readonly startupTimeout?: number;
  readonly gracePeriod?: number;
  readonly expiryWarning?: number;
}

/** The body of `POST /v1/workers`. */
export interface CreateWorkerBody {
  readonly id?: string;
  readonly providerId?: string;
  readonly mode?: 'job' | 'agent';
  readonly readiness?: 'container' | 'external';
  readonly image?: string;
  readonly command?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly resources?: { readonly memoryMb?: number; readonly cpus?: number };
  readonly policy?: Readonly<Record<string, number>>;
}

/**
 * The image and the command from `run`'s operands. What follows `--` is the command; before
 * it at most the image (`run -- CMD` takes the server's default image). Without `--` the
 * operands after the image are the command, as with `docker run`.
 */
export function splitRunOperands(
  operands: readonly string[],
  rawArgs: readonly string[],
): Result<{ readonly image?: string; readonly command: readonly string[] }, string> {
  const dash = rawArgs.indexOf('--');
  const afterDash = dash === -1 ? undefined : rawArgs.length - dash - 1;
  const before =
    afterDash === undefined ? Math.min(operands.length, 1) : operands.length - afterDash;
  if (before > 1) {
    return err(
      `only the image goes before --; the command after it: hodei workers run ${operands[0] ?? 'IMAGE'} -- ${operands.slice(1).join(' ')}`,
    );
  }
  const image = before === 1 ? operands[0] : undefined;
  return ok({ ...(image === undefined ? {} : { image }), command: operands.slice(before) });
}

/** A commander collector for `--env K=V` / `--label K=V`, repeatable. */
export function keyValue(
  value: string,
  previous: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${value}" is not KEY=VALUE`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0)
    throw new InvalidArgumentError('give a whole number above 0');
  return Number(value);
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('give a number above 0');
  return n;
}

const POLICY_FIELDS = [
  ['maxLifetime', 'maxLifetimeSeconds'],
  ['ttlAfterCompletion', 'ttlAfterCompletionSeconds'],
  ['idleTimeout', 'idleTimeoutSeconds'],
  ['startupTimeout', 'startupTimeoutSeconds'],
  ['gracePeriod', 'gracefulTerminationTimeoutSeconds'],
  ['expiryWarning', 'expiryWarningSeconds'],
] as const;

/** The create request; what is not given is left to the server's defaults. */
export function createBody(
  image: string | undefined,
  command: readonly string[],
  o: RunRequestOptions,
): CreateWorkerBody {
  const policy: Record<string, number> = {};
  for (const [option, field] of POLICY_FIELDS) {
    const value = o[option];
    if (value !== undefined) policy[field] = value;
  }
  const resources = {
    ...(o.memory === undefined ? {} : { memoryMb: o.memory }),
    ...(o.cpus === undefined ? {} : { cpus: o.cpus }),
  };
  return {
    ...(o.id === undefined ? {} : { id: o.id }),
    ...(o.provider === undefined ? {} : { providerId: o.provider }),
    ...(o.mode === undefined ? {} : { mode: o.mode }),
    ...(o.readiness === undefined ? {} : { readiness: o.readiness }),
    ...(image === undefined ? {} : { image }),
    ...(command.length === 0 ? {} : { command }),
    ...(o.env === undefined ? {} : { env: o.env }),
    ...(o.label === undefined ? {} : { labels: o.label }),
    ...(Object.keys(resources).length === 0 ? {} : { resources }),
    ...(Object.keys(policy).length === 0 ? {} : { policy }),
  };
}
