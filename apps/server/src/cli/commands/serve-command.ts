import type { Command } from 'commander';
import { action, type CliContext } from '../cli-context.js';

/** `hodei serve [--config FILE]`. */
export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('run the server (configured by HODEI_* variables)')
    .option(
      '--config <file>',
      'a YAML configuration file beside the environment (sets HODEI_CONFIG_FILE)',
    )
    .addHelpText(
      'after',
      '\nIt listens on HODEI_HTTP_HOST:HODEI_HTTP_PORT (127.0.0.1:8080) and stops on SIGTERM or\nSIGINT; workers keep running and are recovered at the next start. Exit code 2: invalid\nconfiguration (each problem names its variable).',
    )
    .action(
      action(ctx, (o: { config?: string }) =>
        ctx.deps.serve(o.config === undefined ? {} : { configFile: o.config }),
      ),
    );
}
