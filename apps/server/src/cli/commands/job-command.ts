import type { Command } from 'commander';
import { action, type CliContext } from '../cli-context.js';

/** `hodei job docker-hello`: the demo job, in-process, against the local Docker Engine. */
export function registerJob(program: Command, ctx: CliContext): void {
  const job = program
    .command('job')
    .description('run a demo job in this process (no server needed)');
  job
    .command('docker-hello')
    .description(
      'run one job worker through its whole lifecycle on the Docker Engine and check it (no server needed)',
    )
    .addHelpText(
      'after',
      '\nIt uses DOCKER_HOST and HODEI_WORKER_IMAGE, prints the output, the event timeline and\nthe checks; exit code 0 when everything held.',
    )
    .action(action(ctx, () => ctx.deps.dockerHello()));
}
