import { InvalidArgumentError, type Command } from 'commander';
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
import { describeNext } from '../deadline-format.js';
import { EXIT } from '../exit-codes.js';

interface HeartbeatOptions extends ClientOptions {
  readonly by?: string;
  readonly output?: 'json';
  readonly quiet?: boolean;
}

/** `--by`: 1 to 128 printable ASCII characters, the first not a space, as the server takes it. */
function byArgument(value: string): string {
  if (!/^[\x21-\x7E][\x20-\x7E]{0,127}$/.test(value))
    throw new InvalidArgumentError(
      'give 1 to 128 printable ASCII characters, the first not a space',
    );
  return value;
}

/** `hodei workers heartbeat ID [--by NAME]`: a sign of life, so an idle agent is not stopped. */
export function registerWorkersHeartbeat(workers: Command, ctx: CliContext): void {
  const heartbeat = workers
    .command('heartbeat')
    .description("restart a live worker's idle clock (no event is recorded)")
    .argument('<id>', 'the worker')
    .option('--by <name>', 'who touched it, shown as its last activity (default: api)', byArgument);
  addWorkerAnswerOptions(heartbeat);
  addUrlOption(heartbeat).action(
    action(ctx, (id: string, o: HeartbeatOptions) =>
      withClient(ctx, o, (client) => sendHeartbeat(ctx, client, id, o)),
    ),
  );
}

async function sendHeartbeat(
  ctx: CliContext,
  client: HodeiClient,
  id: string,
  o: HeartbeatOptions,
): Promise<number> {
  const touched = await client.json<WorkerJson>(
    'POST',
    `/v1/workers/${encodeURIComponent(id)}/heartbeat`,
    { body: o.by === undefined ? {} : { by: o.by } },
  );
  if (touched.isErr()) return failWith(ctx, touched.error);
  const w = touched.value.body;
  if (o.output === 'json') printJson(ctx, w);
  else if (o.quiet !== true) {
    const by = w.lastActivity === null ? '' : ` by ${w.lastActivity.by}`;
    print(ctx, `worker ${w.id} touched${by}; next: ${describeNext(w, ctx.now())}`);
  }
  return EXIT.ok;
}
