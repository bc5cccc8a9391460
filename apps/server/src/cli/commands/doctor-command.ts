import type { Command } from 'commander';
import { action, type CliContext } from '../cli-context.js';

/** `hodei doctor`. */
export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check the Docker Engine and PostgreSQL from here')
    .action(action(ctx, () => ctx.deps.doctor()));
}
