import type { Command } from 'commander';
import type { CliContext } from '../cli-context.js';
import { registerInspect } from './inspect-command.js';
import { registerLogs } from './logs-command.js';
import { registerRun } from './run-command.js';
import { registerWait } from './wait-command.js';
import { registerWorkersExtend } from './workers-extend-command.js';
import { registerWorkersHeartbeat } from './workers-heartbeat-command.js';
import { registerWorkersLs } from './workers-ls-command.js';
import { registerWorkersRm } from './workers-rm-command.js';

/** `hodei workers …`: the workers of a running server. */
export function registerWorkers(program: Command, ctx: CliContext): void {
  const workers = program.command('workers').description('create, list, follow and remove workers');
  registerWorkersLs(workers, ctx);
  registerRun(workers, ctx);
  registerInspect(workers, ctx);
  registerWait(workers, ctx);
  registerWorkersExtend(workers, ctx);
  registerWorkersHeartbeat(workers, ctx);
  registerLogs(workers, ctx);
  registerWorkersRm(workers, ctx);
}
