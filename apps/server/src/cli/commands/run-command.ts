import { Option, type Command } from 'commander';
import type { WorkerJson } from '../api-types.js';
import {
  action,
  fail,
  print,
  printJson,
  say,
  usageHints,
  type CliContext,
} from '../cli-context.js';
import type { HodeiClient } from '../client.js';
import {
  addOutputOptions,
  addUrlOption,
  failWith,
  withClient,
  type OutputOptions,
} from '../common-options.js';
import { durationArgument, secondsArgument } from '../duration.js';
import { EXIT } from '../exit-codes.js';
import { formatAge } from '../format-age.js';
import { progressPrinter } from '../progress.js';
import {
  createBody,
  keyValue,
  positiveInteger,
  positiveNumber,
  splitRunOperands,
  type RunRequestOptions,
} from '../run-request.js';
import { deadlineOf, type Deadline } from '../deadline.js';
import { describeWaitError, outcomeJson, waitFor, type WaitError } from '../wait-for.js';
import { streamLogs } from './logs-command.js';

interface RunOptions extends RunRequestOptions, OutputOptions {
  readonly wait?: boolean;
  readonly follow?: boolean;
  readonly timeout?: number;
}

const EXAMPLES = `
Durations: 90 (seconds), 90s, 5m, 1h30m, 2d. --timeout 0 is no limit.

Examples:
  # a job on the default image; prints its id
  hodei workers run -- sh -c 'echo hi'
  # waits for its end and exits with its exit code, 3
  hodei workers run --wait alpine:3 -- sh -c 'exit 3'
  # prints its output, then exits with its exit code
  hodei workers run -f --wait -- sh -c 'echo hi; sleep 2'
  hodei workers run --mode agent --id build-7 --idle-timeout 10m --label team=ci
`;

/** `hodei workers run [IMAGE] [-- CMD…]`: create a worker, and follow or wait for it. */
export function registerRun(parent: Command, ctx: CliContext): void {
  const run = parent
    .command('run')
    .description('create a worker (--follow: its output, --wait: its end)')
    .argument('[image]', "the image (default: the server's HODEI_WORKER_IMAGE)")
    .argument('[command...]', 'the command and its arguments, after --')
    .addOption(new Option('--mode <mode>', 'what it runs (default job)').choices(['job', 'agent']))
    .option('--id <id>', 'its id (default: generated); a repeat with the same spec is a no-op')
    .option('--provider <id>', 'the provider (default: the first configured)')
    .addOption(
      new Option('--readiness <how>', 'agents: ready once running, or when it says so').choices([
        'container',
        'external',
      ]),
    )
    .option('-e, --env <KEY=VALUE>', 'an environment variable (repeatable)', keyValue)
    .option('-l, --label <KEY=VALUE>', 'a label (repeatable)', keyValue)
    .option('--memory <MB>', 'memory limit in MB', positiveInteger)
    .option('--cpus <n>', 'CPU limit, e.g. 0.5', positiveNumber)
    .option(
      '--max-lifetime <duration>',
      'stop it after this long, whatever it does',
      secondsArgument,
    )
    .option(
      '--ttl-after-completion <duration>',
      'keep it this long after it ended',
      secondsArgument,
    )
    .option(
      '--idle-timeout <duration>',
      'agents: stop it after this long ready and idle',
      secondsArgument,
    )
    .option('--startup-timeout <duration>', 'stop it if not ready within this', secondsArgument)
    .option('--grace-period <duration>', 'between SIGTERM and SIGKILL', secondsArgument)
    .option(
      '--expiry-warning <duration>',
      'warn (WorkerEphemeralExpiring) this long before a lifetime or idle stop; 0: never',
      secondsArgument,
    )
    .option('--wait', 'wait until it terminated; exit with its exit code (events on stderr)')
    .option('-f, --follow', 'print its output as it comes, until it exits')
    .option(
      '--timeout <duration>',
      'with --wait or -f: give up after it, counted from the start (default 0: no limit)',
      durationArgument,
    );
  addOutputOptions(run, {
    json: 'the worker as the API answers (with --wait: once terminated; {id, state: "gone", exitCode, lastEvent} once it is gone)',
    wide: 'as the default',
    quiet: 'only the id (with -f before its output), no progress',
  });
  usageHints.set(
    run,
    "(a command with options goes after --: hodei workers run IMAGE -- CMD ARGS...; see 'hodei workers run --help')",
  );
  addUrlOption(run)
    .addHelpText('after', EXAMPLES)
    .action(
      action(ctx, (_image: unknown, _command: unknown, o: RunOptions, cmd: Command) => {
        const split = splitRunOperands(cmd.args, ctx.args);
        if (split.isErr()) {
          fail(ctx, split.error);
          return Promise.resolve(EXIT.usage);
        }
        const body = createBody(split.value.image, split.value.command, o);
        return withClient(ctx, o, (client) => runWorker(ctx, client, body, o));
      }),
    );
}

async function runWorker(
  ctx: CliContext,
  client: HodeiClient,
  body: ReturnType<typeof createBody>,
  o: RunOptions,
): Promise<number> {
  // One deadline for the whole command, from its start: waiting, following and waiting again.
  const deadline = deadlineOf(o.wait === true || o.follow === true ? o.timeout : undefined);
  const signal = deadline.signal();
  const created = await client.json<WorkerJson>('POST', '/v1/workers', {
    body,
    ...(signal === undefined ? {} : { signal }),
  });
  if (created.isErr() && signal?.aborted === true)
    return fail(ctx, `timed out after ${formatAge(deadline.timeoutMs ?? 0)} creating the worker`);
  if (created.isErr()) return failWith(ctx, created.error);
  const w = created.value.body;
  const quiet = o.quiet === true;
  if (o.wait !== true && o.follow !== true) {
    if (o.output === 'json') printJson(ctx, w);
    else print(ctx, w.id);
    return EXIT.ok;
  }
  if (quiet && o.output !== 'json') print(ctx, w.id);
  if (!quiet) {
    const what = created.value.status === 200 ? 'exists already, with this spec' : 'created';
    say(ctx, `worker ${w.id} ${what} (provider ${w.providerId}, image ${w.image})`);
  }
  const progress = progressPrinter(ctx, w.id);
  const waitOptions = {
    deadline,
    ...(quiet ? {} : { onEvent: progress.onEvent, notice: (m: string) => say(ctx, m) }),
  };
  if (o.follow === true) {
    const started = await waitFor(client, w.id, 'started', waitOptions);
    if (started.isErr()) return fail(ctx, describeWaitError(started.error));
    const logs = await streamLogs(ctx, client, w.id, {
      follow: true,
      tail: 'all',
      deadline,
      onTimeout: () => fail(ctx, describeWaitError(timedOut(w.id, deadline))),
    });
    if (logs !== EXIT.ok || o.wait !== true) return logs;
  }
  const done = await waitFor(client, w.id, 'terminated', waitOptions);
  if (done.isErr()) return fail(ctx, describeWaitError(done.error));
  const { exitCode } = done.value;
  if (o.output === 'json') printJson(ctx, outcomeJson(w.id, done.value));
  if (!quiet && !progress.shown('WorkerEphemeralTerminated'))
    say(ctx, `worker ${w.id} terminated (exit code ${exitCode === null ? 'none' : exitCode})`);
  // No exit code (lost, never started): a failure all the same.
  return exitCode ?? EXIT.failure;
}

const timedOut = (workerId: string, deadline: Deadline): WaitError => ({
  type: 'WaitTimedOut',
  workerId,
  target: 'terminated',
  timeoutMs: deadline.timeoutMs ?? 0,
  lastState: undefined,
});
