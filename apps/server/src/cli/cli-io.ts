/** Where the CLI writes and what it reads of its surroundings; tests pass their own. */
export interface CliIo {
  /** Writes to stdout as it is. */
  out(text: string): void;
  /** Writes to stderr as it is. */
  err(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdout is a terminal and NO_COLOR is unset: tables may be coloured. */
  readonly stdoutColour: boolean;
  readonly stderrColour: boolean;
}

/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
export const colourAllowed = (
  isTTY: boolean | undefined,
  env: Readonly<Record<string, string | undefined>>,
): boolean => isTTY === true && (env['NO_COLOR'] ?? '') === '';

export function processIo(): CliIo {
  return {
    out: (text) => {
      process.stdout.write(text);
    },
    err: (text) => {
      process.stderr.write(text);
    },
    env: process.env,
    stdoutColour: colourAllowed(process.stdout.isTTY, process.env),
    stderrColour: colourAllowed(process.stderr.isTTY, process.env),
  };
}
