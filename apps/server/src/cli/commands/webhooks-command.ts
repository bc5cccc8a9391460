import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { Option, type Command } from 'commander';
import { ResultAsync } from 'neverthrow';
import type {
  CreatedWebhookJson,
  DeadLetterListJson,
  WebhookJson,
  WebhookListJson,
} from '../api-types.js';
import { action, fail, print, printJson, say, type CliContext } from '../cli-context.js';
import type { HodeiClient } from '../client.js';
import { describeClientError, type ClientError } from '../client.errors.js';
import {
  addOutputOptions,
  addUrlOption,
  withClient,
  type ClientOptions,
  type OutputOptions,
} from '../common-options.js';
import { EXIT } from '../exit-codes.js';
import {
  DEAD_LETTER_HEADERS,
  DEAD_LETTER_WIDE_HEADERS,
  WEBHOOK_HEADERS,
  WEBHOOK_WIDE_HEADERS,
  deadLetterRow,
  describeWebhook,
  webhookRow,
} from '../webhook-format.js';
import { formatTable } from '../table.js';
import { fromArgument, secretProblem, targetArgument } from '../webhook-arguments.js';
import { eventTypes } from './events-command.js';

interface AddOptions extends ClientOptions {
  readonly output?: 'json';
  readonly quiet?: boolean;
  readonly type?: readonly string[];
  readonly secret?: string;
  readonly secretFile?: string;
}

interface ReplayOptions extends ClientOptions {
  readonly output?: 'json';
  readonly quiet?: boolean;
  readonly from: string;
}

interface RmOptions extends ClientOptions {
  readonly quiet?: boolean;
}

/** `-o json` and `-q` of the commands that change a webhook: no wide form to show. */
function addJsonOutput(cmd: Command, json: string): Command {
  return cmd
    .addOption(new Option('-o, --output <format>', `json: ${json}`).choices(['json']))
    .option('-q, --quiet', 'only its id');
}

const path = (id: string, rest = ''): string => `/v1/webhooks/${encodeURIComponent(id)}${rest}`;

/**
 * `hodei webhooks …`: the server's webhooks (kept in its PostgreSQL), their delivery state,
 * replays and dead letters.
 */
export function registerWebhooks(program: Command, ctx: CliContext): void {
  const webhooks = program
    .command('webhooks')
    .description('send lifecycle events to HTTP endpoints; their delivery, replays, dead letters');
  registerAdd(webhooks, ctx);
  registerLs(webhooks, ctx);
  registerInspect(webhooks, ctx);
  registerRm(webhooks, ctx);
  registerReplay(webhooks, ctx);
  registerDeadLetters(webhooks, ctx);
}

function registerAdd(webhooks: Command, ctx: CliContext): void {
  const add = webhooks
    .command('add')
    .description('deliver events to a URL (it must match HODEI_WEBHOOK_ALLOWED_URLS)')
    .argument('<url>', 'where to POST each event, http(s)://HOST[:PORT]/PATH', targetArgument)
    .option(
      '--type <types>',
      'only these event types, e.g. WorkerEphemeralFailed (comma list, repeatable; default every type but GarbageCollectionCompleted)',
      eventTypes,
    )
    .option(
      '--secret-file <path>',
      'read the signing secret (whsec_ and 24 to 64 bytes in base64) from a file, - for stdin (default: the server generates one)',
    )
    .option(
      '--secret <secret>',
      'the signing secret on the command line: visible to other local users (ps), prefer --secret-file',
    );
  addJsonOutput(add, 'the created webhook as POST /v1/webhooks answers, with its secret');
  addUrlOption(add)
    .addHelpText(
      'after',
      '\nThe secret is shown only once, in this answer: keep it to check each delivery\'s\nwebhook-signature header (Standard Webhooks). To choose it yourself, pass it in a file\nor on stdin, not on the command line.\n\nExamples:\n  hodei webhooks add https://hooks.example.com/hodei --type WorkerEphemeralFailed\n  hodei webhooks add http://127.0.0.1:9000/ -o json | jq -r .secret\n  echo "whsec_$(openssl rand -base64 32)" | hodei webhooks add https://hooks.example.com/hodei --secret-file -',
    )
    .action(
      action(ctx, async (url: string, o: AddOptions, command: Command) => {
        // A usage error as commander's own (exit 2, the help hint), thrown from here.
        const usage = (message: string): never =>
          command.error(`error: ${message}`, { exitCode: EXIT.usage });
        if (o.secret !== undefined && o.secretFile !== undefined)
          usage('give --secret or --secret-file, not both');
        if (o.secret !== undefined)
          say(
            ctx,
            'warning: --secret is visible to other local users (ps, /proc): prefer --secret-file PATH, or --secret-file - to read it from stdin',
          );
        const secret = o.secretFile === undefined ? o.secret : await readSecret(o.secretFile);
        if (secret instanceof Error) usage(secret.message);
        const given = typeof secret === 'string' ? secret : undefined;
        const problem =
          given === undefined
            ? undefined
            : secretProblem(given, o.secretFile === undefined ? '--secret' : '--secret-file');
        if (problem !== undefined) usage(problem);
        return withClient(ctx, o, async (client) => {
          const body = {
            url,
            ...(o.type === undefined ? {} : { types: o.type }),
            ...(given === undefined ? {} : { secret: given }),
          };
          const created = await client.json<CreatedWebhookJson>('POST', '/v1/webhooks', { body });
          if (created.isErr()) return failWebhook(ctx, created.error);
          const w = created.value.body;
          if (o.output === 'json') printJson(ctx, w);
          else if (o.quiet === true) {
            print(ctx, w.id);
            if (given === undefined)
              say(
                ctx,
                'the generated secret is not printed with -q: use -o json, or --secret-file',
              );
          } else {
            print(ctx, `webhook ${w.id} created for ${w.url}\nsecret: ${w.secret}`);
            say(
              ctx,
              'the secret is not shown again: keep it to check the webhook-signature header of each delivery',
            );
          }
          return EXIT.ok;
        });
      }),
    );
}

function registerLs(webhooks: Command, ctx: CliContext): void {
  const ls = webhooks.command('ls').alias('list').description('list the webhooks');
  addOutputOptions(ls, {
    json: '{"items": [...]}, as GET /v1/webhooks',
    wide: 'also whether it delivers, its cursor, age and last error',
  });
  addUrlOption(ls).action(
    action(ctx, (o: OutputOptions) =>
      withClient(ctx, o, async (client) => {
        const list = await client.json<WebhookListJson>('GET', '/v1/webhooks');
        if (list.isErr()) return failWebhook(ctx, list.error);
        const { items } = list.value.body;
        if (o.output === 'json') printJson(ctx, list.value.body);
        else if (o.quiet === true) {
          if (items.length > 0) print(ctx, items.map((w) => w.id).join('\n'));
        } else if (items.length === 0) say(ctx, "no webhooks ('hodei webhooks add URL' adds one)");
        else {
          const wide = o.output === 'wide';
          const now = ctx.now();
          ctx.io.out(
            formatTable(
              wide ? WEBHOOK_WIDE_HEADERS : WEBHOOK_HEADERS,
              items.map((w) => webhookRow(w, now, wide)),
              ctx.paint,
            ),
          );
        }
        return EXIT.ok;
      }),
    ),
  );
}

function registerInspect(webhooks: Command, ctx: CliContext): void {
  const inspect = webhooks
    .command('inspect')
    .description(
      "a webhook and where its delivery stands (what 'replay' and 'dead-letters' act on)",
    )
    .argument('<id>', 'the webhook');
  addOutputOptions(inspect, {
    json: "the API's JSON, as GET /v1/webhooks/{id}",
    wide: 'also its dead letters',
    quiet: 'only its id (exit code 1 if there is no such webhook)',
  });
  addUrlOption(inspect).action(
    action(ctx, (id: string, o: OutputOptions) =>
      withClient(ctx, o, async (client) => {
        const got = await client.json<WebhookJson>('GET', path(id));
        if (got.isErr()) return failWebhook(ctx, got.error);
        const w = got.value.body;
        if (o.output === 'json') printJson(ctx, w);
        else if (o.quiet === true) print(ctx, w.id);
        else {
          print(ctx, describeWebhook(w, ctx.now(), ctx.paint));
          if (o.output === 'wide') return printDeadLetters(ctx, client, id, true, '  ');
        }
        return EXIT.ok;
      }),
    ),
  );
}

function registerRm(webhooks: Command, ctx: CliContext): void {
  const rm = webhooks
    .command('rm')
    .alias('delete')
    .description('remove a webhook: nothing more is delivered to it')
    .argument('<id>', 'the webhook')
    .option('-q, --quiet', 'print nothing but errors');
  addUrlOption(rm).action(
    action(ctx, (id: string, o: RmOptions) =>
      withClient(ctx, o, async (client) => {
        // 204: no body to read.
        const removed = await client.request('DELETE', path(id));
        if (removed.isErr()) return failWebhook(ctx, removed.error);
        await removed.value.body?.cancel();
        if (o.quiet !== true) print(ctx, `webhook ${id} removed`);
        return EXIT.ok;
      }),
    ),
  );
}

function registerReplay(webhooks: Command, ctx: CliContext): void {
  const replay = webhooks
    .command('replay')
    .description('deliver again from a point of the event log (at least once, in order)')
    .argument('<id>', 'the webhook')
    .requiredOption(
      '--from <cursor|event-id|time>',
      'a cursor (c1.…), an event id (that event on), an ISO time (2026-11-01T12:00:00Z) or an age (1h: an hour ago)',
      fromArgument(ctx.now),
    );
  addJsonOutput(replay, 'the webhook as POST /v1/webhooks/{id}/replay answers');
  addUrlOption(replay)
    .addHelpText(
      'after',
      '\nEvents already delivered are sent again with the same webhook-id header, so a receiver\nthat keeps the ids it has seen can drop them.\n\nExamples:\n  hodei webhooks replay "$id" --from 1h\n  hodei webhooks replay "$id" --from 2026-11-01T12:00:00Z',
    )
    .action(
      action(ctx, (id: string, o: ReplayOptions) =>
        withClient(ctx, o, async (client) => {
          const answer = await client.json<WebhookJson>('POST', path(id, '/replay'), {
            body: { from: o.from },
          });
          if (answer.isErr()) return failWebhook(ctx, answer.error);
          const w = answer.value.body;
          if (o.output === 'json') printJson(ctx, w);
          else if (o.quiet === true) print(ctx, w.id);
          else
            print(
              ctx,
              `webhook ${w.id} replays from ${o.from}; 'hodei webhooks inspect ${w.id}' shows its progress`,
            );
          return EXIT.ok;
        }),
      ),
    );
}

function registerDeadLetters(webhooks: Command, ctx: CliContext): void {
  const dead = webhooks
    .command('dead-letters')
    .description('the events a webhook gave up delivering (HODEI_WEBHOOK_MAX_ATTEMPTS tries)')
    .argument('<id>', 'the webhook');
  addOutputOptions(dead, {
    json: '{"items": [...]}, as GET /v1/webhooks/{id}/dead-letters',
    wide: 'also when it first failed, when it was given up on, and its cursor',
    quiet: 'only the event ids',
  });
  addUrlOption(dead).action(
    action(ctx, (id: string, o: OutputOptions) =>
      withClient(ctx, o, async (client) => {
        if (o.output !== 'json' && o.quiet !== true)
          return printDeadLetters(ctx, client, id, o.output === 'wide', '');
        const got = await client.json<DeadLetterListJson>('GET', path(id, '/dead-letters'));
        if (got.isErr()) return failWebhook(ctx, got.error);
        if (o.output === 'json') printJson(ctx, got.value.body);
        else if (got.value.body.items.length > 0)
          print(ctx, got.value.body.items.map((d) => d.eventId).join('\n'));
        return EXIT.ok;
      }),
    ),
  );
}

/** A webhook's dead letters as a table, each line after `indent`. */
async function printDeadLetters(
  ctx: CliContext,
  client: HodeiClient,
  id: string,
  wide: boolean,
  indent: string,
): Promise<number> {
  const got = await client.json<DeadLetterListJson>('GET', path(id, '/dead-letters'));
  if (got.isErr()) return failWebhook(ctx, got.error);
  const { items } = got.value.body;
  if (indent !== '') print(ctx, 'Dead letters:');
  if (items.length === 0) {
    if (indent === '') say(ctx, `webhook ${id} has no dead letters`);
    else print(ctx, `${indent}none`);
    return EXIT.ok;
  }
  const now = ctx.now();
  const table = formatTable(
    wide ? DEAD_LETTER_WIDE_HEADERS : DEAD_LETTER_HEADERS,
    items.map((d) => deadLetterRow(d, now, wide)),
    ctx.paint,
  );
  ctx.io.out(
    table
      .split('\n')
      .map((l) => (l === '' ? l : `${indent}${l}`))
      .join('\n'),
  );
  if (indent === '')
    say(ctx, `to deliver them again: hodei webhooks replay ${id} --from EVENT-ID|TIME`);
  return EXIT.ok;
}

/**
 * The secret of `--secret-file`: the file's text (or stdin's for `-`) without the line end;
 * an Error naming the option (never the content) when it cannot be read.
 */
async function readSecret(path: string): Promise<string | Error> {
  const read = await ResultAsync.fromThrowable(
    // stdin is read to its end.
    () => (path === '-' ? text(process.stdin) : readFile(path, 'utf8')),
    (cause) =>
      new Error(
        `--secret-file ${path === '-' ? '- (stdin)' : path}: ${cause instanceof Error && 'code' in cause ? String(cause.code) : 'cannot be read'}`,
      ),
  )();
  return read.isOk() ? read.value.trim() : read.error;
}

/** A client error, with what to do about the answers only webhooks give. */
function failWebhook(ctx: CliContext, e: ClientError): number {
  return fail(ctx, [describeClientError(e), ...hintsFor(e)].join('\n'));
}

function hintsFor(e: ClientError): string[] {
  if (e.type !== 'HttpError') return [];
  if (e.body.error === 'WebhooksNeedDatabase')
    return ['  the server needs it, not this command: restart the server with DATABASE_URL set'];
  if (e.body.error === 'WebhookNotFound') return ["  'hodei webhooks ls' lists the webhooks"];
  if (e.body.error === 'WebhookLimitReached')
    return [
      "  'hodei webhooks rm ID' removes one ('hodei webhooks ls' lists them), or raise HODEI_WEBHOOK_MAX on the server",
    ];
  if (e.status === 400 && (e.body.problems ?? []).some((p) => p.path === 'params.id'))
    return ["  that is no webhook id: 'hodei webhooks ls' lists the webhooks"];
  // A server without the webhook routes answers its framework's 404.
  if (e.status === 404) return ['  this server has no webhook API: is it older than this hodei?'];
  return [];
}
