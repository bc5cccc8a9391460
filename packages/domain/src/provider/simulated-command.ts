/** What a simulated provider (the in-memory fake, the Kubernetes stub) makes of a worker's command. */
export interface SimulatedRun {
  /** Milliseconds until it exits by itself; `null`: runs until stopped. */
  readonly runMs: number | null;
  readonly exitCode: number;
  readonly output: readonly string[];
}

const unquote = (s: string): string => s.trim().replace(/^(['"])(.*)\1$/, '$2');

/**
 * Reads the small shell subset the contract suites and demos use: `echo TEXT`, `sleep N`
 * (`sleep infinity`), `exit N`, joined by `;` or `&&`, bare or under `sh -c`. No command, or
 * anything else, runs until stopped.
 */
export function simulateCommand(command: readonly string[] | undefined): SimulatedRun {
  if (command === undefined || command.length === 0)
    return { runMs: null, exitCode: 0, output: [] };
  const script =
    (command[0] === 'sh' || command[0] === '/bin/sh') && command[1] === '-c'
      ? (command[2] ?? '')
      : command.join(' ');
  let runMs = 0;
  const output: string[] = [];
  for (const raw of script.split(/;|&&/)) {
    const part = raw.trim();
    if (part === '') continue;
    const [verb, ...rest] = part.split(/\s+/);
    const arg = rest.join(' ');
    if (verb === 'echo') {
      output.push(unquote(arg));
    } else if (verb === 'sleep') {
      if (arg === 'infinity') return { runMs: null, exitCode: 0, output };
      const seconds = Number(arg);
      if (!Number.isFinite(seconds) || seconds < 0) return { runMs: null, exitCode: 0, output };
      runMs += Math.round(seconds * 1000);
    } else if (verb === 'exit') {
      const code = Number(arg === '' ? 0 : arg);
      return { runMs, exitCode: Number.isInteger(code) ? code : 1, output };
    } else if (verb === 'true') {
      continue;
    } else {
      return { runMs: null, exitCode: 0, output };
    }
  }
  return { runMs, exitCode: 0, output };
}
