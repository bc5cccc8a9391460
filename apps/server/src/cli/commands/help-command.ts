import type { Command } from 'commander';
import { action, fail, type CliContext } from '../cli-context.js';
import { EXIT } from '../exit-codes.js';

const find = (from: Command, names: readonly string[]): Command | undefined => {
  let cmd: Command | undefined = from;
  for (const name of names)
    cmd = cmd?.commands.find((c) => c.name() === name || c.aliases().includes(name));
  return cmd;
};

/** `hodei help [command…]`: `hodei help workers run` as `hodei workers run --help`. */
export function registerHelp(program: Command, ctx: CliContext): void {
  program.helpCommand(false);
  program
    .command('help')
    .description('show help for a command')
    .argument('[command...]', 'the command, e.g. workers run')
    .action(
      action(ctx, (names: string[]) => {
        const target = find(program, names);
        if (target === undefined) {
          fail(ctx, `unknown command '${names.join(' ')}'; 'hodei help' lists the commands`);
          return Promise.resolve(EXIT.usage);
        }
        target.outputHelp();
        return Promise.resolve(EXIT.ok);
      }),
    );
}
