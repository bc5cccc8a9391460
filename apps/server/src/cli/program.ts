import { Command, CommanderError } from 'commander';
import { createContext, usageHints, type CliContext, type CliDeps } from './cli-context.js';
import type { CliIo } from './cli-io.js';
import { paintWith } from './colour.js';
import { registerCompletion } from './commands/completion-command.js';
import { registerDoctor } from './commands/doctor-command.js';
import { registerEvents } from './commands/events-command.js';
import { registerEventsPrune } from './commands/events-prune-command.js';
import { registerGc } from './commands/gc-command.js';
import { registerHelp } from './commands/help-command.js';
import { registerJob } from './commands/job-command.js';
import { registerLogs } from './commands/logs-command.js';
import { registerServe } from './commands/serve-command.js';
import { registerStats } from './commands/stats-command.js';
import { registerWebhooks } from './commands/webhooks-command.js';
import { registerWorkers } from './commands/workers-command.js';
import { EXIT } from './exit-codes.js';
import { serverVersion } from './version.js';

const ROOT_HELP = `
Client commands (workers, events, logs, gc, stats, webhooks) talk to a running server: --url, else
http://$HODEI_HTTP_HOST:$HODEI_HTTP_PORT (http://127.0.0.1:8080); the API token from
HODEI_API_TOKEN, else $HODEI_DATA_DIR/api-token (./.hodei/api-token, written by 'hodei serve').

Read commands take -o json (the API's JSON, one document), -o wide (more columns) and
-q (ids only). Colour only on a terminal and without NO_COLOR.
Exit codes: 0 done, 1 failed, 2 wrong usage. More: docs/cli.md.

Examples:
  hodei serve
  hodei workers run --wait -- sh -c 'echo hi; exit 3'; echo $?
  hodei workers ls -o wide
  hodei events -f --worker build-7
  source <(hodei completion bash)`;

/** The command tree; each action leaves its exit code in `ctx.exitCode`. */
export function buildProgram(ctx: CliContext): { program: Command; events: Command } {
  const program = new Command('hodei')
    .description('Hodei Lifecycle: ephemeral worker containers, their lifecycle and events')
    .version(serverVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addHelpText('after', ROOT_HELP);
  program.commandsGroup('Client commands (talk to a running server):');
  registerWorkers(program, ctx);
  const events = registerEvents(program, ctx);
  registerEventsPrune(events, ctx);
  registerLogs(program, ctx);
  registerGc(program, ctx);
  registerStats(program, ctx);
  registerWebhooks(program, ctx);
  program.commandsGroup('On this machine:');
  registerServe(program, ctx);
  registerDoctor(program, ctx);
  registerJob(program, ctx);
  program.commandsGroup('Other commands:');
  registerCompletion(program, ctx);
  registerHelp(program, ctx);
  configureTree(program, ctx);
  return { program, events };
}

const pathOf = (cmd: Command): string =>
  cmd.parent === null ? cmd.name() : `${pathOf(cmd.parent)} ${cmd.name()}`;

/** Every command: usage errors thrown (not exited) and written through the io, with a hint. */
function configureTree(cmd: Command, ctx: CliContext): void {
  const red = paintWith(ctx.io.stderrColour);
  cmd
    .exitOverride()
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError(usageHints.get(cmd) ?? `(see '${pathOf(cmd)} --help')`)
    .configureOutput({
      writeOut: (text) => ctx.io.out(text),
      writeErr: (text) => ctx.io.err(text),
      outputError: (text, write) => write(text.replace(/^error: /, `${red('red', 'hodei:')} `)),
    });
  for (const sub of cmd.commands) configureTree(sub, ctx);
}

/** The exit code of a usage error or of `--help`/`--version`. */
function exitCodeOf(e: CommanderError): number {
  switch (e.code) {
    case 'commander.helpDisplayed':
    case 'commander.version':
      return EXIT.ok;
    case 'commander.help':
      // Help shown because a command was missing (`hodei`, `hodei workers`) is a usage error.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    default:
      return EXIT.usage;
  }
}

/** Runs the CLI on `args` (without node and the script); resolves with the exit code. */
export async function runCli(args: readonly string[], io: CliIo, deps: CliDeps): Promise<number> {
  const ctx = createContext(io, deps, args);
  const { program } = buildProgram(ctx);
  try {
    await program.parseAsync([...args], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return exitCodeOf(e);
    io.err(`hodei: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failure;
  }
}
