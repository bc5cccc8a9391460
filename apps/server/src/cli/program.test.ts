import { describe, expect, it } from 'vitest';
import type { CliDeps } from './cli-context.js';
import type { CliIo } from './cli-io.js';
import { colourAllowed } from './cli-io.js';
import { runCli } from './program.js';
import { serverVersion } from './version.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly calls: string[];
}

/** The CLI in this process, with a fake io and commands that only record that they ran. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const calls: string[] = [];
  const io: CliIo = {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    env,
    stdoutColour: false,
    stderrColour: false,
  };
  const deps: CliDeps = {
    serve: (o) => {
      calls.push(`serve ${JSON.stringify(o)}`);
      return Promise.resolve(0);
    },
    dockerHello: () => {
      calls.push('docker-hello');
      return Promise.resolve(0);
    },
    doctor: () => {
      calls.push('doctor');
      return Promise.resolve(0);
    },
  };
  const code = await runCli(args, io, deps);
  return { code, stdout, stderr, calls };
}

describe('help', () => {
  it.each([
    [['serve', '--help'], 'Usage: hodei serve'],
    [['serve', '-h'], 'Usage: hodei serve'],
    [['job', 'docker-hello', '--help'], 'Usage: hodei job docker-hello'],
    [['doctor', '--help'], 'Usage: hodei doctor'],
    [['workers', 'ls', '--help'], 'Usage: hodei workers ls'],
    [['workers', 'run', '--help'], 'Usage: hodei workers run [options] [image] [command...]'],
    [['gc', '--help'], 'Usage: hodei gc'],
    [['stats', '--help'], 'Usage: hodei stats'],
    [['events', '--help'], 'Usage: hodei events'],
    [['logs', '--help'], 'Usage: hodei logs [options] <id>'],
    [['help', 'workers', 'wait'], 'Usage: hodei workers wait'],
    [['help'], 'Usage: hodei [options] [command]'],
    [['--help'], 'Client commands (talk to a running server):'],
  ])('%j prints help on stdout, exits 0 and runs nothing', async (args, text) => {
    const run = await cli(args);
    expect(run).toMatchObject({ code: 0, stderr: '', calls: [] });
    expect(run.stdout).toContain(text);
  });

  it('prints the server package version', async () => {
    const run = await cli(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${serverVersion()}\n`, calls: [] });
    expect(serverVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('shows every read option of the read commands', async () => {
    for (const args of [['workers', 'ls'], ['workers', 'inspect'], ['events']]) {
      const run = await cli([...args, '--help']);
      expect(run.stdout).toContain('-o, --output <format>');
      expect(run.stdout).toContain('-q, --quiet');
    }
  });
});

describe('usage errors exit 2 and say what to run', () => {
  it.each([
    [['frobnicate'], "hodei: unknown command 'frobnicate'\n(see 'hodei --help')"],
    [
      ['workers', 'ls', '--bogus'],
      "hodei: unknown option '--bogus'\n(see 'hodei workers ls --help')",
    ],
    [['workers', 'inspect'], "hodei: missing required argument 'id'"],
    [['workers', 'wait', 'w1'], "required option '--for <condition>' not specified"],
    [['workers', 'wait'], "missing required argument 'id'"],
    [['workers', 'wait', '--for=ready', '--timeout', '0'], "missing required argument 'id'"],
    [['events', 'prune', '--before', '30'], '"30" has no unit: give an age with one (30d, 30h)'],
    [['events', 'prun'], "unknown command 'prun'\n(Did you mean prune?)"],
    [
      ['workers', 'ls', '--url', 'localhost:18123'],
      '"localhost:18123" is not a server URL: give http://HOST:PORT',
    ],
    [['events', '-f', '--url', 'ftp://x'], 'is not a server URL'],
    [['workers', 'wait', 'w1', '--for=done'], 'Allowed choices are ready, terminated, cleaned.'],
    [['workers', 'wait', 'w1', '--for=ready', '--timeout', 'soon'], '"soon" is not a duration'],
    [['workers', 'ls', '-o', 'yaml'], 'Allowed choices are json, wide.'],
    [['stats', '--window', '2d'], '"2d" is not a window: give whole seconds from 1s to 24h'],
    [['workers', 'run', '--ttl-after-completion', '1.5s'], 'not a whole number of seconds'],
    [['workers', 'run', 'alpine', 'echo', '-n'], 'a command with options goes after --'],
    [['workers', 'run', 'a', 'b', '--', 'c'], 'only the image goes before --'],
    [['events', '--type', 'Nope'], 'unknown event type "Nope"'],
    [['logs', 'w1', '--tail', 'many'], 'give a number of lines (0 to 999999) or all'],
    [['completion', 'fish'], 'Allowed choices are bash, zsh.'],
    [['help', 'nothing'], "unknown command 'nothing'"],
    [['job', 'nope'], "unknown command 'nope'"],
  ])('%j', async (args, message) => {
    const run = await cli(args, { HODEI_API_TOKEN: 'never-used-token-000000' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
    expect(run.calls).toEqual([]);
  });

  it('shows the help on stderr with no command at all', async () => {
    const run = await cli([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: hodei');
  });
});

describe('commands that run here', () => {
  it('serves with the configuration file it is given', async () => {
    expect((await cli(['serve', '--config', 'hodei.yaml'])).calls).toEqual([
      'serve {"configFile":"hodei.yaml"}',
    ]);
    expect((await cli(['serve'])).calls).toEqual(['serve {}']);
  });

  it('runs docker-hello and doctor', async () => {
    expect((await cli(['job', 'docker-hello'])).calls).toEqual(['docker-hello']);
    expect((await cli(['doctor'])).calls).toEqual(['doctor']);
  });

  it('says where the token should be when there is none', async () => {
    const run = await cli(['workers', 'ls'], { HODEI_DATA_DIR: '/nonexistent/hodei' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'no API token: set HODEI_API_TOKEN, or run where /nonexistent/hodei/api-token exists',
    );
  });
});

describe('colour', () => {
  it('is on only on a terminal without NO_COLOR', () => {
    expect(colourAllowed(true, {})).toBe(true);
    expect(colourAllowed(false, {})).toBe(false);
    expect(colourAllowed(undefined, {})).toBe(false);
    expect(colourAllowed(true, { NO_COLOR: '1' })).toBe(false);
    expect(colourAllowed(true, { NO_COLOR: '' })).toBe(true);
  });
});
