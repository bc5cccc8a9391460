import { Option, type Command } from 'commander';
import { action, fail, print, printJson, say, type CliContext } from '../cli-context.js';
import { addUrlOption, withClient, type ClientOptions } from '../common-options.js';
import { deadlineOf } from '../deadline.js';
import { durationArgument } from '../duration.js';
import { EXIT } from '../exit-codes.js';
import { progressPrinter } from '../progress.js';
import {
  describeWaitError,
  outcomeJson,
  waitFor,
  WAIT_CONDITIONS,
  type WaitCondition,
} from '../wait-for.js';

interface WaitCommandOptions extends ClientOptions {
  readonly for?: WaitCondition;
  readonly timeout?: number;
  readonly output?: 'json';
  readonly quiet?: boolean;
}

/** `hodei workers wait ID --for=ready|terminated|cleaned`, as `kubectl wait`. */
export function registerWait(parent: Command, ctx: CliContext): void {
  const wait = parent
    .command('wait')
    .description('wait until a worker is ready, terminated or cleaned')
    .argument('<id>', 'the worker')
    .addOption(
      // Checked in the action, after the id: `hodei workers wait` names the id first.
      new Option(
        '--for <condition>',
        'ready, terminated or cleaned (removed, or gone) (required)',
      ).choices(WAIT_CONDITIONS),
    )
    .option(
      '--timeout <duration>',
      'give up after it: 30s, 5m, 1h (default 0: no limit)',
      durationArgument,
    )
    .addOption(
      new Option(
        '-o, --output <format>',
        'json: the worker\'s JSON then ({id, state: "gone", exitCode, lastEvent} once it is gone)',
      ).choices(['json']),
    )
    .option('-q, --quiet', 'no progress and no message, only the exit code')
    .addHelpText(
      'after',
      "\nIt listens to the worker's events and reads the worker, so it never misses a change;\nits events show on stderr meanwhile. Exit code 0 when the condition holds, 1 when it\ncannot any more (a worker that ended never becomes ready), timed out, or no such worker.\nA server that cannot be reached or answers 502/503 (a restart) is waited for until --timeout.",
    );
  addUrlOption(wait).action(
    action(ctx, (id: string, o: WaitCommandOptions, cmd: Command) => {
      const condition = o.for;
      if (condition === undefined)
        cmd.error("error: required option '--for <condition>' not specified", {
          exitCode: EXIT.usage,
          code: 'commander.missingMandatoryOptionValue',
        });
      // One deadline from the start: connecting and every read count against it.
      const deadline = deadlineOf(o.timeout);
      return withClient(ctx, o, async (client) => {
        const progress = progressPrinter(ctx, id);
        const done = await waitFor(client, id, condition, {
          deadline,
          ...(o.quiet === true ? {} : { onEvent: progress.onEvent, notice: (m) => say(ctx, m) }),
        });
        if (done.isErr()) return fail(ctx, describeWaitError(done.error));
        if (o.output === 'json') printJson(ctx, outcomeJson(id, done.value));
        else if (o.quiet !== true) print(ctx, `worker ${id}: condition met (${condition})`);
        return EXIT.ok;
      });
    }),
  );
}
