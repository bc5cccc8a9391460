import { Option, type Command } from 'commander';
import type { GcJson } from '../api-types.js';
import { action, printJson, type CliContext } from '../cli-context.js';
import { addUrlOption, failWith, withClient, type ClientOptions } from '../common-options.js';
import { EXIT } from '../exit-codes.js';
import { formatTable } from '../table.js';

interface GcOptions extends ClientOptions {
  readonly output?: 'json' | 'wide';
}

const HEADERS = ['PROVIDER', 'CLEANED', 'ORPHANS', 'ERRORS', 'DURATION'];
const WIDE = [
  ['LIFETIME', 'lifetimeExceeded'],
  ['IDLE', 'idleTimedOut'],
  ['STARTUP', 'startupTimedOut'],
  ['FORCED', 'forceTerminated'],
  ['TTL', 'ttlExpired'],
  ['WARNED', 'expiryWarnings'],
  ['LOST', 'lost'],
] as const;

/** `hodei gc`: a deadline pass and a reconciliation now. */
export function registerGc(program: Command, ctx: CliContext): void {
  const gc = program
    .command('gc')
    .description('run a deadline pass and a reconciliation now')
    .addOption(
      new Option(
        '-o, --output <format>',
        "json: the API's JSON (POST /v1/gc); wide: also what each cleanup was for",
      ).choices(['json', 'wide']),
    );
  addUrlOption(gc).action(
    action(ctx, (o: GcOptions) =>
      withClient(ctx, o, async (client) => {
        const answer = await client.json<GcJson>('POST', '/v1/gc');
        if (answer.isErr()) return failWith(ctx, answer.error);
        const stats = answer.value.body;
        if (o.output === 'json') {
          printJson(ctx, stats);
          return EXIT.ok;
        }
        const wide = o.output === 'wide';
        const rows = Object.entries(stats.byProvider).map(([provider, s]) => [
          provider,
          String(s.workersCleaned),
          String(s.orphansDetected),
          String(s.errors),
          `${Math.round(s.durationMs)}ms`,
          ...(wide ? WIDE.map(([, key]) => String(s[key] ?? 0)) : []),
        ]);
        const headers = [...HEADERS, ...(wide ? WIDE.map(([h]) => h) : [])];
        ctx.io.out(formatTable(headers, rows, ctx.paint));
        return EXIT.ok;
      }),
    ),
  );
}
