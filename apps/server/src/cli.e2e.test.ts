import { describe, expect, it } from 'vitest';
import { runHodei } from './testing/hodei-child.js';

const hodei = (args: string[], env: Record<string, string> = {}) => runHodei(args, env);

describe('hodei job docker-hello', () => {
  it('runs one job worker through its whole lifecycle on the real engine and says it held', async () => {
    const run = await hodei(['job', 'docker-hello']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  | Hello from Docker provider');
    expect(run.stdout).toMatch(
      /WorkerEphemeralCreated[\s\S]*WorkerEphemeralReady[\s\S]*WorkerEphemeralBusy[\s\S]*WorkerEphemeralTerminated[\s\S]*WorkerEphemeralCleanedUp \(TtlExpired\)/,
    );
    expect(run.stdout).toContain('ok   no container of the worker is left');
    expect(run.stdout).toContain('docker-hello: the whole lifecycle held');
  });

  it('fails with exit code 1 and a hint when Docker does not answer', async () => {
    const run = await hodei(['job', 'docker-hello'], {
      DOCKER_HOST: 'unix:///nonexistent/hello.sock',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'FAIL Docker Engine at unix:///nonexistent/hello.sock is unavailable',
    );
    expect(run.stdout).toContain('hint: run scripts/services.sh up');
  });
});

describe('hodei serve', () => {
  it('prints its help and starts nothing with --help', async () => {
    for (const args of [
      ['serve', '--help'],
      ['job', 'docker-hello', '--help'],
      ['help', 'serve'],
    ]) {
      const run = await hodei(args, { HODEI_HTTP_PORT: 'eighty' });
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^Usage: hodei (serve|job docker-hello)/);
      expect(run.stdout).not.toContain('listening');
    }
  });

  it('refuses to serve with a bad configuration, naming the variable', async () => {
    const run = await hodei(['serve'], {
      HODEI_HTTP_PORT: 'eighty',
      HODEI_PROVIDERS: 'docker,nomad',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'HODEI_HTTP_PORT="eighty" is invalid: it accepts a TCP port from 0 to 65535',
    );
    expect(run.stderr).toContain('HODEI_PROVIDERS');
  });
});
