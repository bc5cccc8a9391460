import { InvalidArgumentError, Option, type Command } from 'commander';
import { action, fail, print, printJson, type CliContext } from '../cli-context.js';
import { parseDuration } from '../duration.js';

interface PruneOptions {
  readonly before: Date;
  readonly output?: 'json';
}

/** `--before`: an ISO date or time, or an age with a unit ("30d": more than 30 days ago). */
export function beforeArgument(now: () => number): (value: string) => Date {
  return (value) => {
    // A bare number would be seconds to parseDuration: `--before 30` must not mean 30 s ago.
    if (/^\s*\d+(\.\d+)?\s*$/.test(value)) {
      throw new InvalidArgumentError(
        `"${value}" has no unit: give an age with one (${value.trim()}d, ${value.trim()}h) or a date (2026-11-01)`,
      );
    }
    const age = parseDuration(value);
    if (age.isOk()) return new Date(now() - age.value);
    const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) {
      throw new InvalidArgumentError(
        `"${value}" is neither a date (2026-11-01, 2026-11-01T12:00:00Z) nor an age (30d, 12h)`,
      );
    }
    return date;
  };
}

/**
 * `hodei events prune --before`: deletes from the event log (DATABASE_URL) the events of the
 * worker lives cleaned up before the date (a lost worker is kept until then), and the pass reports as old.
 * A live worker's events are never deleted. The server does the same on its own with
 * HODEI_EVENT_RETENTION_DAYS.
 */
export function registerEventsPrune(events: Command, ctx: CliContext): void {
  events
    .command('prune')
    .description('delete the events of worker lives that ended before a date (DATABASE_URL)')
    .requiredOption(
      '--before <date|age>',
      'an ISO date (2026-11-01) or an age with a unit (30d: lives that ended more than 30 days ago; a bare number is refused)',
      beforeArgument(ctx.now),
    )
    .addOption(new Option('-o, --output <format>', 'json: the counts').choices(['json']))
    .addHelpText(
      'after',
      '\nThe events of a worker that is still tracked are never deleted.\n\nExamples:\n  DATABASE_URL=postgres://… hodei events prune --before 90d',
    )
    .action(
      action(ctx, async (own: PruneOptions, command: Command) => {
        // `-o` after `prune` is also an option of `events`, which commander gives it.
        const options = command.optsWithGlobals<PruneOptions>();
        const databaseUrl = ctx.io.env['DATABASE_URL'];
        if (databaseUrl === undefined || databaseUrl === '') {
          return fail(ctx, 'events prune works on the event log: set DATABASE_URL');
        }
        // Loaded only here: the other commands start without the database driver.
        const { pruneEventsBefore, redactDatabaseUrl } = await import('@hodei/postgres-event-bus');
        const pruned = await pruneEventsBefore(databaseUrl, options.before);
        if (pruned.isErr()) {
          return fail(
            ctx,
            `cannot prune ${redactDatabaseUrl(databaseUrl)}: ${pruned.error.message} (is it up? 'hodei doctor')`,
          );
        }
        if (options.output === 'json') {
          printJson(ctx, { before: options.before.toISOString(), ...pruned.value });
        } else {
          print(
            ctx,
            `pruned ${pruned.value.events} events of ${pruned.value.workers} worker lives that ended before ${options.before.toISOString()}`,
          );
        }
        return 0;
      }),
    );
}
