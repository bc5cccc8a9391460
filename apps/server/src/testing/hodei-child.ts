import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** For the CLI's end-to-end tests: the built `hodei` in a child process. */

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface HodeiRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface HodeiChild {
  stdout(): string;
  stderr(): string;
  /** Resolves once its stdout holds `text`; rejects when it exits first or after `timeoutMs`. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then what it wrote. */
  stop(): Promise<HodeiRun>;
  readonly exited: Promise<HodeiRun>;
}

/** Starts `hodei args…` with the environment plus `env`. */
export function startHodei(args: readonly string[], env: Record<string, string> = {}): HodeiChild {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const wakers = new Set<() => void>();
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    for (const wake of wakers) wake();
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<HodeiRun>((resolve) =>
    child.on('exit', (code) => {
      resolve({ code, stdout, stderr });
      for (const wake of wakers) wake();
    }),
  );
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForOutput: (text, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          wakers.delete(check);
          reject(
            new Error(`no ${JSON.stringify(text)} within ${timeoutMs} ms:\n${stdout}\n${stderr}`),
          );
        }, timeoutMs);
        const check = () => {
          if (stdout.includes(text)) {
            clearTimeout(timer);
            wakers.delete(check);
            resolve();
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            wakers.delete(check);
            reject(new Error(`exited before ${JSON.stringify(text)}:\n${stdout}\n${stderr}`));
          }
        };
        wakers.add(check);
        check();
      }),
    stop: () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs `hodei args…` to its end. */
export const runHodei = (
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<HodeiRun> => startHodei(args, env).exited;
