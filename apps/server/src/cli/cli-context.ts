import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';
import { paintWith, type Paint } from './colour.js';
import { EXIT } from './exit-codes.js';

/** What the commands that do not talk to a server run; tests replace them. */
export interface CliDeps {
  /** `hodei serve`: runs until SIGTERM or SIGINT; the exit code. */
  serve(options: { readonly configFile?: string }): Promise<number>;
  dockerHello(): Promise<number>;
  doctor(): Promise<number>;
}

export interface CliContext {
  readonly io: CliIo;
  readonly deps: CliDeps;
  readonly now: () => number;
  /** Colours for stdout. */
  readonly paint: Paint;
  /** The command line as given (without node and the script). */
  readonly args: readonly string[];
  /** Set by the action that ran. */
  exitCode: number;
}

export function createContext(io: CliIo, deps: CliDeps, args: readonly string[]): CliContext {
  return {
    io,
    deps,
    args,
    now: () => Date.now(),
    paint: paintWith(io.stdoutColour),
    exitCode: EXIT.ok,
  };
}

/** A line on stderr, `hodei: ` first. */
export function say(ctx: CliContext, message: string): void {
  const prefix = paintWith(ctx.io.stderrColour)('bold', 'hodei:');
  ctx.io.err(`${prefix} ${message}\n`);
}

/** An error on stderr; returns the failure exit code. */
export function fail(ctx: CliContext, message: string): number {
  const prefix = paintWith(ctx.io.stderrColour)('red', 'hodei:');
  ctx.io.err(`${prefix} ${message}\n`);
  return EXIT.failure;
}

/** Writes a line (or lines) to stdout. */
export function print(ctx: CliContext, text: string): void {
  ctx.io.out(text.endsWith('\n') ? text : `${text}\n`);
}

/** JSON on stdout as the API sent it, indented: one document. */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** A commander action that returns the exit code. */
export function action<A extends unknown[]>(
  ctx: CliContext,
  run: (...args: A) => Promise<number>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    ctx.exitCode = await run(...args);
  };
}

/** A command's own hint after a usage error, instead of "(see 'hodei … --help')". */
export const usageHints = new WeakMap<Command, string>();
