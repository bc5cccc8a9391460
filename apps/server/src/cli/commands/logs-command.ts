import { InvalidArgumentError, type Command } from 'commander';
import { action, type CliContext } from '../cli-context.js';
import type { HodeiClient } from '../client.js';
import { addUrlOption, failWith, withClient, type ClientOptions } from '../common-options.js';
import type { Deadline } from '../deadline.js';
import { EXIT } from '../exit-codes.js';

interface LogsOptions extends ClientOptions {
  readonly tail?: string;
  readonly follow?: boolean;
}

/** `--tail`: a number of lines, or `all`. */
export function tailArgument(value: string): string {
  if (value === 'all' || /^\d{1,6}$/.test(value)) return value;
  throw new InvalidArgumentError('give a number of lines (0 to 999999) or all');
}

/** `logs ID [--tail N] [-f]`, under `hodei` and under `hodei workers`. */
export function registerLogs(parent: Command, ctx: CliContext): void {
  const logs = parent
    .command('logs')
    .description("print a worker's output")
    .argument('<id>', 'the worker')
    .option(
      '--tail <lines>',
      'the last N lines, or all (default: the server’s, 1000)',
      tailArgument,
    )
    .option('-f, --follow', 'keep printing as it writes, until it exits');
  addUrlOption(logs).action(
    action(ctx, (id: string, o: LogsOptions) =>
      withClient(ctx, o, (client) =>
        streamLogs(ctx, client, id, {
          follow: o.follow === true,
          ...(o.tail === undefined ? {} : { tail: o.tail }),
        }),
      ),
    ),
  );
}

/** Copies a worker's logs to stdout as they come; the exit code. */
export async function streamLogs(
  ctx: CliContext,
  client: HodeiClient,
  id: string,
  o: {
    readonly follow: boolean;
    readonly tail?: string;
    /** Every request and the stream end at it; then `onTimeout` says so. */
    readonly deadline?: Deadline;
    readonly onTimeout?: () => number;
  },
): Promise<number> {
  const signal = o.deadline?.signal();
  const timedOut = () =>
    (signal?.aborted === true || o.deadline?.expired() === true) && o.onTimeout !== undefined;
  const q = new URLSearchParams();
  if (o.follow) q.set('follow', 'true');
  if (o.tail !== undefined) q.set('tail', o.tail);
  const query = q.toString();
  const response = await client.request(
    'GET',
    `/v1/workers/${encodeURIComponent(id)}/logs${query === '' ? '' : `?${query}`}`,
    signal === undefined ? {} : { signal },
  );
  if (response.isErr())
    return timedOut() ? (o.onTimeout?.() ?? EXIT.failure) : failWith(ctx, response.error);
  const body = response.value.body;
  if (body === null) return EXIT.ok;
  const decoder = new TextDecoder();
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>)
      ctx.io.out(decoder.decode(chunk, { stream: true }));
  } catch (cause) {
    if (timedOut()) return o.onTimeout?.() ?? EXIT.failure;
    return failWith(ctx, {
      type: 'Unreachable',
      url: client.url,
      cause: `the log stream broke: ${(cause as Error).message}`,
    });
  }
  return EXIT.ok;
}
