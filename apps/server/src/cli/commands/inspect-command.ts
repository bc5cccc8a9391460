import type { Command } from 'commander';
import type { HistoryJson, WorkerJson } from '../api-types.js';
import { action, print, printJson, type CliContext } from '../cli-context.js';
import type { HodeiClient } from '../client.js';
import { stateStyle } from '../colour.js';
import {
  addOutputOptions,
  addUrlOption,
  failWith,
  withClient,
  type OutputOptions,
} from '../common-options.js';
import { deadlineLines } from '../deadline-format.js';
import { EVENT_HEADERS, eventRow } from '../event-format.js';
import { EXIT } from '../exit-codes.js';
import { ageOf } from '../format-age.js';
import { formatTable } from '../table.js';

/** `hodei workers inspect ID`: the worker's JSON, as `docker inspect`. */
export function registerInspect(parent: Command, ctx: CliContext): void {
  const inspect = parent
    .command('inspect')
    .description("a worker's JSON, as the API answers it")
    .argument('<id>', 'the worker');
  addOutputOptions(inspect, {
    json: 'the default',
    wide: 'a description with its policy, deadlines, last activity and event history',
    quiet: 'only its id (exit code 1 if there is no such worker)',
  });
  addUrlOption(inspect).action(
    action(ctx, (id: string, o: OutputOptions) =>
      withClient(ctx, o, (client) => inspectWorker(ctx, client, id, o)),
    ),
  );
}

async function inspectWorker(
  ctx: CliContext,
  client: HodeiClient,
  id: string,
  o: OutputOptions,
): Promise<number> {
  const got = await client.json<WorkerJson>('GET', `/v1/workers/${encodeURIComponent(id)}`);
  if (got.isErr()) return failWith(ctx, got.error);
  const w = got.value.body;
  if (o.quiet === true) print(ctx, w.id);
  else if (o.output === 'wide') await describe(ctx, client, w);
  else printJson(ctx, w);
  return EXIT.ok;
}

async function describe(ctx: CliContext, client: HodeiClient, w: WorkerJson): Promise<void> {
  const now = ctx.now();
  const at = (iso: string | null) => (iso === null ? '-' : `${iso} (${ageOf(iso, now)} ago)`);
  const state = ctx.paint(stateStyle(w.state, w.exitCode), w.state);
  const fields: [string, string][] = [
    ['ID', w.id],
    ['Provider', w.providerId],
    ['Mode', w.mode],
    ['State', w.exitCode === null ? state : `${state} (exit code ${w.exitCode})`],
    ['Image', w.image],
    ['Resource', w.resourceId || '-'],
    ['Created', at(w.createdAt)],
    ['Ready', at(w.readyAt)],
    ['Terminated', at(w.terminatedAt)],
    ['Termination reason', w.terminationReason ?? '-'],
  ];
  const pad = Math.max(...fields.map(([k]) => k.length)) + 2;
  const lines = fields.map(([k, v]) => `${`${k}:`.padEnd(pad)}${v}`);
  lines.push('Policy:');
  for (const [k, v] of Object.entries(w.policy)) lines.push(`  ${k}: ${String(v)}`);
  lines.push(...deadlineLines(w, now));
  print(ctx, lines.join('\n'));
  const history = await client.json<HistoryJson>(
    'GET',
    `/v1/workers/${encodeURIComponent(w.id)}/events`,
  );
  if (history.isErr() || history.value.body.events.length === 0) return;
  print(ctx, 'Events:');
  const table = formatTable(
    EVENT_HEADERS.filter((h) => h !== 'WORKER'),
    history.value.body.events.map((e) => eventRow(e, false, now).filter((_, i) => i !== 2)),
    ctx.paint,
  );
  ctx.io.out(
    table
      .split('\n')
      .map((l) => (l === '' ? l : `  ${l}`))
      .join('\n'),
  );
}
