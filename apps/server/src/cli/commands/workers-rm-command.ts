import type { Command } from 'commander';
import type { WorkerJson } from '../api-types.js';
import { action, print, printJson, type CliContext } from '../cli-context.js';
import type { HodeiClient } from '../client.js';
import {
  addUrlOption,
  addWorkerAnswerOptions,
  failWith,
  withClient,
  type ClientOptions,
} from '../common-options.js';
import { EXIT } from '../exit-codes.js';
import { withProgress } from '../progress.js';

interface RmOptions extends ClientOptions {
  readonly wait?: boolean;
  readonly output?: 'json';
  readonly quiet?: boolean;
}

/** `hodei workers rm ID [--wait]`. */
export function registerWorkersRm(workers: Command, ctx: CliContext): void {
  const rm = workers
    .command('rm')
    .alias('delete')
    .description('stop and remove a worker gracefully')
    .argument('<id>', 'the worker')
    .option('--wait', 'until it is stopped and removed; prints its events on stderr meanwhile');
  addWorkerAnswerOptions(rm);
  addUrlOption(rm).action(
    action(ctx, (id: string, o: RmOptions) =>
      withClient(ctx, o, (client) => remove(ctx, client, id, o)),
    ),
  );
}

async function remove(
  ctx: CliContext,
  client: HodeiClient,
  id: string,
  o: RmOptions,
): Promise<number> {
  const path = `/v1/workers/${encodeURIComponent(id)}${o.wait === true ? '?wait=true' : ''}`;
  const destroy = () => client.json<WorkerJson>('DELETE', path);
  const answer =
    o.wait === true && o.quiet !== true
      ? await withProgress(ctx, client, id, destroy, (a) =>
          a.isOk() && a.value.status === 200 ? 'WorkerEphemeralCleanedUp' : undefined,
        )
      : await destroy();
  if (answer.isErr()) return failWith(ctx, answer.error);
  if (o.output === 'json') printJson(ctx, answer.value.body);
  else if (o.quiet !== true) {
    print(
      ctx,
      answer.value.status === 200
        ? `worker ${id} removed`
        : `worker ${id} is terminating; it is removed in the background (hodei workers wait ${id} --for=cleaned)`,
    );
  }
  return EXIT.ok;
}
