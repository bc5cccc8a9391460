import { WORKER_STATES } from '@hodei/domain';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { DeadlineStatsJson, WorkerSummaryJson } from '../api-types.js';
import { action, printJson, type CliContext } from '../cli-context.js';
import { addUrlOption, failWith, withClient, type ClientOptions } from '../common-options.js';
import { durationArgument } from '../duration.js';
import { EXIT } from '../exit-codes.js';
import { formatTable } from '../table.js';

interface StatsOptions extends ClientOptions {
  readonly window?: number;
  readonly output?: 'json' | 'wide';
}

/** The window the server takes: whole seconds, 1 to 86400 (a day: what it keeps). */
const MAX_WINDOW_SECONDS = 86_400;
const DEFAULT_WINDOW_SECONDS = 3600;

/** `--window`: a CLI duration of whole seconds, 1s to 24h, or a usage error. */
export function windowArgument(value: string): number {
  const ms = durationArgument(value);
  if (ms % 1000 !== 0 || ms < 1000 || ms > MAX_WINDOW_SECONDS * 1000)
    throw new InvalidArgumentError(
      `"${value}" is not a window: give whole seconds from 1s to 24h (90s, 15m, 1h)`,
    );
  return ms / 1000;
}

const SERIES = [
  ['lifetime', 'reap lag: lifetime'],
  ['idle', 'reap lag: idle'],
  ['startup', 'reap lag: startup'],
  ['forceRemove', 'reap lag: forceRemove'],
  ['ttl', 'reap lag: ttl'],
] as const;

/** `hodei stats`: the worker counts and how late the deadline passes acted in a window. */
export function registerStats(program: Command, ctx: CliContext): void {
  const stats = program
    .command('stats')
    .description('the worker counts by state, and how late the GC acted (reap lag, idle tail)')
    .option(
      '--window <duration>',
      'the reap lag and idle tail of this last while, 1s to 24h (default 1h)',
      windowArgument,
    )
    .addOption(
      new Option(
        '-o, --output <format>',
        'json: { workers: GET /v1/stats/workers, deadlines: GET /v1/stats/deadlines }; wide: also live workers and lifecycle per provider',
      ).choices(['json', 'wide']),
    );
  addUrlOption(stats).action(
    action(ctx, (o: StatsOptions) =>
      withClient(ctx, o, async (client) => {
        const windowSeconds = o.window ?? DEFAULT_WINDOW_SECONDS;
        const [workers, deadlines] = await Promise.all([
          client.json<WorkerSummaryJson>('GET', '/v1/stats/workers'),
          client.json<DeadlineStatsJson>(
            'GET',
            `/v1/stats/deadlines?windowSeconds=${windowSeconds}`,
          ),
        ]);
        if (workers.isErr()) return failWith(ctx, workers.error);
        if (deadlines.isErr()) return failWith(ctx, deadlines.error);
        if (o.output === 'json') {
          printJson(ctx, { workers: workers.value.body, deadlines: deadlines.value.body });
          return EXIT.ok;
        }
        ctx.io.out(workerTable(ctx, workers.value.body, o.output === 'wide'));
        ctx.io.out(`\nLast ${formatWindow(deadlines.value.body.windowSeconds)}, in seconds:\n`);
        ctx.io.out(deadlineTable(ctx, deadlines.value.body));
        return EXIT.ok;
      }),
    ),
  );
}

/** A row per provider under the total; wide adds the live count and whether it is managed. */
function workerTable(ctx: CliContext, s: WorkerSummaryJson, wide: boolean): string {
  const states = WORKER_STATES.map((state) => state.toUpperCase());
  const headers = ['PROVIDER', 'TOTAL', ...states, ...(wide ? ['LIVE', 'LIFECYCLE'] : [])];
  const counts = (byState: WorkerSummaryJson['byState']) =>
    WORKER_STATES.map((state) => String(byState[state]));
  const total = (byState: WorkerSummaryJson['byState']) =>
    String(WORKER_STATES.reduce((sum, state) => sum + byState[state], 0));
  const rows = [
    ['(all)', String(s.total), ...counts(s.byState), ...(wide ? ['', ''] : [])],
    ...s.providers.map((p) => [
      p.id,
      total(p.byState),
      ...counts(p.byState),
      ...(wide ? [String(p.live), p.lifecycle ? 'on' : 'off'] : []),
    ]),
  ];
  return formatTable(headers, rows, ctx.paint);
}

function deadlineTable(ctx: CliContext, d: DeadlineStatsJson): string {
  const rows = [
    ...SERIES.map(([key, label]) => [label, ...figures(d.reapLag[key])]),
    ['idle tail', ...figures(d.idleTail)],
  ];
  return formatTable(['SERIES', 'COUNT', 'P50', 'P90', 'P99', 'MAX'], rows, ctx.paint);
}

/** Count, then p50, p90, p99 and max in seconds; `-` when nothing was observed. */
function figures(o: DeadlineStatsJson['idleTail']): string[] {
  const secs = (v: number | null) =>
    o.count === 0 || v === null ? '-' : String(Math.round(v * 1000) / 1000);
  return [String(o.count), secs(o.p50), secs(o.p90), secs(o.p99), secs(o.max)];
}

/** 3600 → `1h`, 5400 → `1h30m`, 90 → `1m30s`. */
export function formatWindow(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const text = `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
  return text === '' ? '0s' : text;
}
