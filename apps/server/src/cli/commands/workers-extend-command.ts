import { InvalidArgumentError, Option, type Command } from 'commander';
import type { WorkerJson } from '../api-types.js';
import { action, print, printJson, usageHints, type CliContext } from '../cli-context.js';
import type { HodeiClient } from '../client.js';
import {
  addUrlOption,
  addWorkerAnswerOptions,
  failWith,
  withClient,
  type ClientOptions,
} from '../common-options.js';
import { valueWords } from '../completion.js';
import { describeNext } from '../deadline-format.js';
import { secondsArgument } from '../duration.js';
import { EXIT } from '../exit-codes.js';

interface ExtendOptions extends ClientOptions {
  /** Seconds, as the API's policy takes them. */
  readonly lifetime?: number;
  readonly idle?: number;
  /** `none`: no retention, as 0 (commander turns a parsed `null` into `''`). */
  readonly ttl?: number | 'none';
  readonly expiryWarning?: number;
  readonly grace?: number;
  readonly startup?: number;
  /** Seconds added to the worker's maxLifetime, by the server under the worker's lock. */
  readonly add?: number;
  readonly output?: 'json';
  readonly quiet?: boolean;
}

/** The header naming the fields a change changed (empty: none). */
const CHANGED_HEADER = 'hodei-policy-changed';

/** The body of `PATCH /v1/workers/{id}/policy`. */
export type PolicyChangeBody = Readonly<Record<string, number | null>>;

const FIELDS = [
  ['lifetime', 'maxLifetimeSeconds'],
  ['idle', 'idleTimeoutSeconds'],
  ['ttl', 'ttlAfterCompletionSeconds'],
  ['expiryWarning', 'expiryWarningSeconds'],
  ['grace', 'gracefulTerminationTimeoutSeconds'],
  ['startup', 'startupTimeoutSeconds'],
] as const;

/** `--ttl`: a duration, or `none` (`null`: no retention, as 0). */
function ttlArgument(value: string): number | 'none' {
  return value.trim() === 'none' ? 'none' : secondsArgument(value);
}

/** `--add`, `--lifetime`: a duration above zero. */
function positiveArgument(value: string): number {
  const seconds = secondsArgument(value);
  if (seconds === 0) throw new InvalidArgumentError('give a duration above 0');
  return seconds;
}

const EXAMPLES = `
Durations: 90 (seconds), 90s, 5m, 1h30m, 2d. Only the fields given change; the server checks
them as at create, and no lifetime may pass its HODEI_MAX_LIFETIME_SECONDS.

Examples:
  hodei workers extend build-7 --lifetime 2h
  hodei workers extend build-7 --add 30m          # 30 minutes more than it has now
  hodei workers extend build-7 --idle 10m --expiry-warning 30s
  hodei workers extend build-7 --ttl 1h           # a finished worker, kept an hour more
`;

/** `hodei workers extend ID [--lifetime D] [--add D] …`: change a worker's policy as it runs. */
export function registerWorkersExtend(workers: Command, ctx: CliContext): void {
  const extend = workers
    .command('extend')
    .description("change a worker's lifetime, idle timeout or retention while it runs")
    .argument('<id>', 'the worker')
    .option('--lifetime <duration>', 'its maxLifetime, counted from its creation', positiveArgument)
    .option('--add <duration>', 'add this to its current maxLifetime', positiveArgument)
    .option('--idle <duration>', 'agents: its idle timeout', secondsArgument)
    .addOption(ttlOption())
    .option(
      '--expiry-warning <duration>',
      'how long before a lifetime or idle stop it is warned of (0: never)',
      secondsArgument,
    )
    .option('--grace <duration>', 'between SIGTERM and SIGKILL', secondsArgument)
    .option('--startup <duration>', 'how long it may take to become ready', secondsArgument);
  addWorkerAnswerOptions(extend);
  usageHints.set(extend, "(see 'hodei workers extend --help')");
  addUrlOption(extend)
    .addHelpText('after', EXAMPLES)
    .action(
      action(ctx, (id: string, o: ExtendOptions, cmd: Command) => {
        const problem = usageProblem(o);
        if (problem !== undefined) cmd.error(`error: ${problem}`, { exitCode: EXIT.usage });
        return withClient(ctx, o, (client) => extendWorker(ctx, client, id, o));
      }),
    );
}

/** `--ttl`, whose completion offers `none` besides a duration. */
function ttlOption(): Option {
  const ttl = new Option(
    '--ttl <duration>',
    'how long it is kept once finished (none: no retention)',
  ).argParser(ttlArgument);
  valueWords.set(ttl, ['none']);
  return ttl;
}

function usageProblem(o: ExtendOptions): string | undefined {
  if (o.add !== undefined && o.lifetime !== undefined)
    return '--add and --lifetime both set the lifetime: give one';
  if (o.add === undefined && FIELDS.every(([option]) => o[option] === undefined))
    return 'give what to change: --lifetime, --add, --idle, --ttl, --expiry-warning, --grace or --startup';
  return undefined;
}

/**
 * The change the options ask for; `--add` as extendLifetimeBySeconds, added by the server to
 * the lifetime the worker has then, so concurrent extensions all count.
 */
export function policyChangeBody(o: ExtendOptions): PolicyChangeBody {
  const body: Record<string, number | null> = {};
  for (const [option, field] of FIELDS) {
    const value = o[option];
    if (value !== undefined) body[field] = value === 'none' ? null : value;
  }
  if (o.add !== undefined) body['extendLifetimeBySeconds'] = o.add;
  return body;
}

async function extendWorker(
  ctx: CliContext,
  client: HodeiClient,
  id: string,
  o: ExtendOptions,
): Promise<number> {
  const answer = await client.json<WorkerJson>(
    'PATCH',
    `/v1/workers/${encodeURIComponent(id)}/policy`,
    { body: policyChangeBody(o) },
  );
  if (answer.isErr()) return failWith(ctx, answer.error);
  const w = answer.value.body;
  if (o.output === 'json') printJson(ctx, w);
  else if (o.quiet !== true) {
    const changed = (answer.value.headers?.get(CHANGED_HEADER) ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== '');
    const lifetime = o.add === undefined ? '' : ` (maxLifetime ${w.policy.maxLifetimeSeconds}s)`;
    const what = changed.length === 0 ? ': no change' : ` changed ${changed.join(', ')}`;
    print(ctx, `worker ${w.id}${what}${lifetime}; next: ${describeNext(w, ctx.now())}`);
  }
  return EXIT.ok;
}
