import { WORKER_STATES } from '@hodei/domain';
import { Option, type Command } from 'commander';
import { err, ok, type Result } from 'neverthrow';
import type { WorkerJson, WorkerPageJson } from '../api-types.js';
import { action, print, printJson, say, type CliContext } from '../cli-context.js';
import type { HodeiClient } from '../client.js';
import type { ClientError } from '../client.errors.js';
import { stateStyle } from '../colour.js';
import {
  addOutputOptions,
  addUrlOption,
  failWith,
  withClient,
  type OutputOptions,
} from '../common-options.js';
import { EXIT } from '../exit-codes.js';
import { ageOf } from '../format-age.js';
import { formatTable, type Cell } from '../table.js';

interface LsOptions extends OutputOptions {
  readonly state?: string;
  readonly provider?: string;
  readonly mode?: string;
}

/** `hodei workers ls`. */
export function registerWorkersLs(workers: Command, ctx: CliContext): void {
  const ls = workers
    .command('ls')
    .alias('list')
    .description('list the workers (every page)')
    .addOption(new Option('--state <state>', 'only workers in this state').choices(WORKER_STATES))
    .option('--provider <id>', 'only the workers of this provider')
    .addOption(new Option('--mode <mode>', 'only jobs or agents').choices(['job', 'agent']));
  addOutputOptions(ls, {
    json: '{"items": [...every worker], "nextCursor": null}, as GET /v1/workers',
    wide: 'also image, ready and terminated ages, reason, resource',
  });
  addUrlOption(ls).action(
    action(ctx, (o: LsOptions) =>
      withClient(ctx, o, async (client) => {
        const all = await listAll(client, o);
        if (all.isErr()) return failWith(ctx, all.error);
        render(ctx, all.value, o);
        return EXIT.ok;
      }),
    ),
  );
}

/** Every page, following the cursor. */
export async function listAll(
  client: HodeiClient,
  o: LsOptions,
): Promise<Result<WorkerJson[], ClientError>> {
  const q = new URLSearchParams();
  if (o.state !== undefined) q.set('state', o.state);
  if (o.provider !== undefined) q.set('providerId', o.provider);
  if (o.mode !== undefined) q.set('mode', o.mode);
  q.set('limit', '1000');
  const items: WorkerJson[] = [];
  for (;;) {
    const page = await client.json<WorkerPageJson>('GET', `/v1/workers?${q.toString()}`);
    if (page.isErr()) return err(page.error);
    items.push(...page.value.body.items);
    if (page.value.body.nextCursor === null) return ok(items);
    q.set('cursor', page.value.body.nextCursor);
  }
}

const HEADERS = ['ID', 'PROVIDER', 'MODE', 'STATE', 'AGE', 'EXIT'];
const WIDE_HEADERS = [...HEADERS, 'IMAGE', 'READY', 'TERMINATED', 'REASON', 'RESOURCE'];

function render(ctx: CliContext, items: readonly WorkerJson[], o: LsOptions): void {
  if (o.output === 'json') return printJson(ctx, { items, nextCursor: null });
  if (o.quiet === true) {
    if (items.length > 0) print(ctx, items.map((w) => w.id).join('\n'));
    return;
  }
  if (items.length === 0) return say(ctx, 'no workers');
  const now = ctx.now();
  const wide = o.output === 'wide';
  const rows = items.map((w) => workerRow(w, now, wide));
  ctx.io.out(formatTable(wide ? WIDE_HEADERS : HEADERS, rows, ctx.paint));
}

export function workerRow(w: WorkerJson, now: number, wide: boolean): Cell[] {
  const row: Cell[] = [
    w.id,
    w.providerId,
    w.mode,
    { text: w.state, style: stateStyle(w.state, w.exitCode) },
    ageOf(w.createdAt, now),
    w.exitCode === null ? '-' : String(w.exitCode),
  ];
  if (!wide) return row;
  return [
    ...row,
    w.image,
    ageOf(w.readyAt, now),
    ageOf(w.terminatedAt, now),
    w.terminationReason ?? '-',
    shortResource(w.resourceId),
  ];
}

/** A Docker container id as `docker ps` shows it (12 characters); other names as they are. */
export const shortResource = (id: string): string =>
  id === '' ? '-' : /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
