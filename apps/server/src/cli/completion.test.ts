import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { CliDeps } from './cli-context.js';
import { createContext } from './cli-context.js';
import { bashCompletion, zshCompletion } from './completion.js';
import { buildProgram } from './program.js';

const never = () => Promise.reject(new Error('not in this test'));
const deps: CliDeps = { serve: never, dockerHello: never, doctor: never };
const io = {
  out: () => undefined,
  err: () => undefined,
  env: {},
  stdoutColour: false,
  stderrColour: false,
};
const { program } = buildProgram(createContext(io, deps, []));

/** What bash offers after the words typed (the last one being completed). */
function complete(words: string[]): string[] {
  const script = `${bashCompletion(program)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_hodei; printf '%s\\n' "\${COMPREPLY[@]}"`;
  // No hodei on PATH here: completing worker ids finds none.
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', script], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin' },
  });
  expect(run.stderr).toBe('');
  return run.stdout.split('\n').filter((l) => l !== '');
}

describe('bash completion, made from the command tree', () => {
  it('completes commands and subcommands', () => {
    expect(complete(['hodei', ''])).toEqual(
      expect.arrayContaining(['workers', 'events', 'logs', 'gc', 'serve', 'completion', 'help']),
    );
    expect(complete(['hodei', 'workers', 'r'])).toEqual(['run', 'rm']);
    expect(complete(['hodei', 'job', ''])).toContain('docker-hello');
  });

  it("completes a command's options, also after an alias", () => {
    expect(complete(['hodei', 'workers', 'ls', '--'])).toEqual(
      expect.arrayContaining(['--state', '--output', '--quiet', '--url', '--help']),
    );
    expect(complete(['hodei', 'workers', 'list', '--st'])).toEqual(['--state']);
    expect(complete(['hodei', 'workers', 'run', '--ttl'])).toEqual(['--ttl-after-completion']);
  });

  it('completes the values of options with choices', () => {
    expect(complete(['hodei', 'workers', 'ls', '-o', ''])).toEqual(['json', 'wide']);
    expect(complete(['hodei', 'workers', 'wait', 'w1', '--for', 't'])).toEqual(['terminated']);
    expect(complete(['hodei', 'completion', ''])).toEqual(['bash', 'zsh', '-h', '--help']);
    expect(complete(['hodei', 'help', 'w'])).toEqual(['workers', 'webhooks']);
    expect(complete(['hodei', 'workers', 'ls', '--url', ''])).toEqual([]);
  });
});

describe('zsh completion', () => {
  it('describes the same commands', () => {
    const script = zshCompletion(program);
    expect(script.startsWith('#compdef hodei\n')).toBe(true);
    expect(script).toContain("'run:create a worker (--follow: its output, --wait: its end)'");
    expect(script).toContain("'/workers/wait --for') compadd -- ready terminated cleaned");
    const zsh = spawnSync('zsh', ['-n'], { input: script, encoding: 'utf8' });
    // Checked where zsh is installed.
    if (zsh.error === undefined) expect(zsh.status).toBe(0);
  });
});
