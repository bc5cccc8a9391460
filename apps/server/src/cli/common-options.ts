import { InvalidArgumentError, Option, type Command } from 'commander';
import { fail, type CliContext } from './cli-context.js';
import { resolveClientConfig } from './client-config.js';
import { HodeiClient } from './client.js';
import { describeClientError, type ClientError } from './client.errors.js';
import { httpUrl } from './http-url.js';

export interface ClientOptions {
  readonly url?: string;
}

export interface OutputOptions extends ClientOptions {
  readonly output?: 'json' | 'wide';
  readonly quiet?: boolean;
}

/** `--url`: an http(s) URL with its scheme, checked when the option is parsed. */
export function urlArgument(value: string): string {
  if (httpUrl(value) === undefined)
    throw new InvalidArgumentError(
      `"${value}" is not a server URL: give http://HOST:PORT or https://HOST:PORT (e.g. http://127.0.0.1:8080)`,
    );
  return value;
}

export function addUrlOption(cmd: Command): Command {
  return cmd.option(
    '--url <url>',
    'the server, http://HOST:PORT (default http://$HODEI_HTTP_HOST:$HODEI_HTTP_PORT)',
    urlArgument,
  );
}

/** `-o json|wide` and `-q`, as every read command has them. */
export function addOutputOptions(
  cmd: Command,
  help: { readonly json?: string; readonly wide?: string; readonly quiet?: string } = {},
): Command {
  return cmd
    .addOption(
      new Option(
        '-o, --output <format>',
        `json: ${help.json ?? "the API's JSON, one document"}; wide: ${help.wide ?? 'more columns'}`,
      ).choices(['json', 'wide']),
    )
    .option('-q, --quiet', help.quiet ?? 'only the ids, one a line');
}

/** `-o json` and `-q`, as the commands answering the worker they changed have them. */
export function addWorkerAnswerOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('-o, --output <format>', "json: the worker's JSON the API answers").choices([
        'json',
      ]),
    )
    .option('-q, --quiet', 'print nothing but errors');
}

/** Runs `fn` with a client of the server, or says why there is none. */
export async function withClient(
  ctx: CliContext,
  options: ClientOptions,
  fn: (client: HodeiClient) => Promise<number>,
): Promise<number> {
  const config = await resolveClientConfig(options.url, ctx.io.env);
  if (config.isErr()) return fail(ctx, describeClientError(config.error));
  return fn(new HodeiClient(config.value));
}

/** A client error on stderr; the failure exit code. */
export const failWith = (ctx: CliContext, e: ClientError): number =>
  fail(ctx, describeClientError(e));
