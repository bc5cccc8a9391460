import { LIFECYCLE_EVENT_TYPES } from '@hodei/domain';
import { InvalidArgumentError, type Command } from 'commander';
import { shortType, type CloudEventJson, type HistoryJson } from '../api-types.js';
import { action, fail, print, printJson, say, type CliContext } from '../cli-context.js';
import type { HodeiClient } from '../client.js';
import {
  addOutputOptions,
  addUrlOption,
  failWith,
  withClient,
  type OutputOptions,
} from '../common-options.js';
import { connectEventFeed } from '../event-feed.js';
import {
  EVENT_HEADERS,
  EVENT_STREAM_HEADERS,
  EVENT_STREAM_WIDTHS,
  EVENT_WIDE_HEADERS,
  eventRow,
} from '../event-format.js';
import { EXIT } from '../exit-codes.js';
import { formatStreamRow, formatTable } from '../table.js';

interface EventsOptions extends OutputOptions {
  readonly follow?: boolean;
  readonly worker?: string;
  readonly type?: readonly string[];
}

/** `--type`: event types, short or as CloudEvents name them, repeatable or comma-separated. */
export function eventTypes(value: string, previous: readonly string[] | undefined): string[] {
  const types = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const t of types.map(shortType)) {
    if (!(LIFECYCLE_EVENT_TYPES as readonly string[]).includes(t))
      throw new InvalidArgumentError(
        `unknown event type "${t}"; known: ${LIFECYCLE_EVENT_TYPES.join(', ')}`,
      );
  }
  return [...(previous ?? []), ...types.map(shortType)];
}

const STREAM_WIDE_WIDTHS = [24, 26, 20, 12, 8, 36, 36];

/**
 * `hodei events`: a worker's history (`--worker`), or the live stream (`-f`, or no
 * `--worker`). Leaves room for `events prune`, a subcommand added beside it.
 */
export function registerEvents(program: Command, ctx: CliContext): Command {
  const events = program
    .command('events')
    .description("a worker's event history, or the live event stream")
    .option(
      '-f, --follow',
      'keep printing events as they happen (with --worker: after its history)',
    )
    .option('--worker <id>', "one worker's events; without -f its history, also after cleanup")
    .option(
      '--type <types>',
      'only these types, e.g. WorkerEphemeralReady (comma list, repeatable)',
      eventTypes,
    );
  addOutputOptions(events, {
    json: 'the history as GET /v1/workers/{id}/events answers; with -f one CloudEvent a line',
    wide: 'also the time, provider, actor, correlation id and event id',
    quiet: 'only the event ids',
  });
  addUrlOption(events)
    .addHelpText(
      'after',
      '\nWithout --worker it streams live events, as -f. The stream resumes by itself with\nLast-Event-ID after a disconnect (with --worker, at worst after the history it printed);\nit ends with Ctrl-C, or with exit code 1 when the server refuses it (a 401, a 4xx).',
    )
    // `events` takes no operand: one is a mistyped subcommand (`hodei events prun`).
    .allowExcessArguments(true)
    .action(
      action(ctx, (o: EventsOptions, cmd: Command) => {
        const [word] = cmd.args;
        if (word !== undefined) unknownSubcommand(cmd, word);
        return withClient(ctx, o, (client) =>
          o.worker !== undefined && o.follow !== true
            ? history(ctx, client, o.worker, o)
            : follow(ctx, client, o),
        );
      }),
    );
  return events;
}

/** As commander says it for a command without an action, with the subcommand it resembles. */
function unknownSubcommand(cmd: Command, word: string): never {
  const like = cmd.commands.find((c) => c.name().startsWith(word.slice(0, 3)));
  const hint = like === undefined ? '' : `\n(Did you mean ${like.name()}?)`;
  return cmd.error(`error: unknown command '${word}'${hint}`, {
    exitCode: EXIT.usage,
    code: 'commander.unknownCommand',
  });
}

const wanted = (o: EventsOptions, e: CloudEventJson): boolean =>
  o.type === undefined || o.type.length === 0 || o.type.includes(shortType(e.type));

async function history(
  ctx: CliContext,
  client: HodeiClient,
  workerId: string,
  o: EventsOptions,
): Promise<number> {
  const got = await client.json<HistoryJson>(
    'GET',
    `/v1/workers/${encodeURIComponent(workerId)}/events`,
  );
  if (got.isErr()) {
    if (got.error.type !== 'WorkerNotFound') return failWith(ctx, got.error);
    return fail(
      ctx,
      [
        `worker ${workerId} has no events (WorkerNotFound, HTTP 404): the server never had it, or its events were pruned`,
        "  'hodei workers ls' lists the workers; 'hodei events -f --worker ID' waits for one to appear",
      ].join('\n'),
    );
  }
  const events = got.value.body.events.filter((e) => wanted(o, e));
  if (o.output === 'json') printJson(ctx, { ...got.value.body, events });
  else if (o.quiet === true) {
    if (events.length > 0) print(ctx, events.map((e) => e.id).join('\n'));
  } else if (events.length === 0) say(ctx, `no events of worker ${workerId}`);
  else {
    const wide = o.output === 'wide';
    const now = ctx.now();
    ctx.io.out(
      formatTable(
        wide ? EVENT_WIDE_HEADERS : EVENT_HEADERS,
        events.map((e) => eventRow(e, wide, now)),
        ctx.paint,
      ),
    );
  }
  return EXIT.ok;
}

async function follow(ctx: CliContext, client: HodeiClient, o: EventsOptions): Promise<number> {
  const controller = new AbortController();
  const feed = await connectEventFeed(
    client,
    {
      ...(o.worker === undefined ? {} : { workerId: o.worker }),
      ...(o.type === undefined ? {} : { types: o.type }),
    },
    { signal: controller.signal, notice: (m) => say(ctx, m) },
  );
  if (feed.isErr()) return failWith(ctx, feed.error);
  const wide = o.output === 'wide';
  const widths = wide ? STREAM_WIDE_WIDTHS : EVENT_STREAM_WIDTHS;
  const print1 = (e: CloudEventJson) => {
    if (!wanted(o, e)) return;
    if (o.output === 'json') print(ctx, JSON.stringify(e));
    else if (o.quiet === true) print(ctx, e.id);
    else ctx.io.out(formatStreamRow(eventRow(e, wide, undefined), widths, ctx.paint));
  };
  if (o.output !== 'json' && o.quiet !== true)
    ctx.io.out(
      formatStreamRow(wide ? EVENT_WIDE_HEADERS : EVENT_STREAM_HEADERS, widths, ctx.paint),
    );
  // Subscribed first, the history read then: nothing falls in between. The live events that
  // came meanwhile are in both: only those (the overlap) are skipped, by the history's ids.
  let overlap = new Set<string>();
  if (o.worker !== undefined) {
    const past = await client.json<HistoryJson>(
      'GET',
      `/v1/workers/${encodeURIComponent(o.worker)}/events`,
    );
    if (past.isErr() && past.error.type !== 'WorkerNotFound') return failWith(ctx, past.error);
    const events = past.isOk() ? past.value.body.events : [];
    events.forEach(print1);
    overlap = new Set(events.map((e) => e.id));
    // A break before the first live message resumes after the history printed.
    const last = events.at(-1);
    if (last !== undefined) feed.value.resumeAfter(last.id);
  }
  try {
    for await (const item of feed.value) {
      if (item.kind === 'failed') return failWith(ctx, item.error);
      if (item.kind === 'reset') say(ctx, `some events were not delivered: ${item.message}`);
      if (item.kind !== 'event') continue;
      if (overlap.has(item.event.id)) continue;
      // The first event the history did not have: every one after it is newer still.
      overlap.clear();
      print1(item.event);
    }
  } finally {
    controller.abort();
  }
  return EXIT.ok;
}
