import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, TEST_TOKEN, type TestServer } from './testing/test-server.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs the built `hodei` CLI; resolves with its exit code and output. */
function hodei(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hodei job docker-hello', () => {
  it('runs one job worker through its whole lifecycle on the real engine and says it held', async () => {
    const run = await hodei(['job', 'docker-hello']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('  | Hello from Docker provider');
    expect(run.stdout).toMatch(
      /WorkerEphemeralCreated[\s\S]*WorkerEphemeralReady[\s\S]*WorkerEphemeralBusy[\s\S]*WorkerEphemeralTerminated[\s\S]*WorkerEphemeralCleanedUp \(TtlExpired\)/,
    );
    expect(run.stdout).toContain('ok   no hodei-worker container is left');
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

describe('hodei client commands', () => {
  let t: TestServer;
  const env = () => ({ HODEI_API_TOKEN: TEST_TOKEN });

  beforeAll(async () => {
    t = await startTestServer();
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('lists, shows logs of and removes workers, and runs the passes', async () => {
    await t.api('POST', '/v1/workers', {
      body: { id: 'cli-1', command: ['sh', '-c', 'echo from cli-1; sleep 600'] },
    });
    await eventually(
      () => t.api('GET', '/v1/workers/cli-1'),
      (r) => r.body.state === 'busy',
    );
    const ls = await hodei(['workers', 'ls', '--url', t.url], env());
    expect(ls.code).toBe(0);
    expect(ls.stdout.split('\n')[0]).toBe('ID\tPROVIDER\tMODE\tSTATE\tCREATED\tEXIT');
    expect(ls.stdout).toMatch(/^cli-1\tk8s-stub\tjob\tbusy\t/m);
    const logs = await hodei(['workers', 'logs', 'cli-1', '--url', t.url], env());
    expect(logs.stdout).toContain('from cli-1');
    const gc = await hodei(['gc', '--url', t.url], env());
    expect(gc.code).toBe(0);
    expect(JSON.parse(gc.stdout)).toMatchObject({
      workersCleaned: expect.any(Number),
      byProvider: { 'k8s-stub': expect.any(Object) },
    });
    const rm = await hodei(['workers', 'rm', 'cli-1', '--wait', '--url', t.url], env());
    expect(rm.code).toBe(0);
    expect((await t.api('GET', '/v1/workers/cli-1')).status).toBe(404);
  });

  it('says what went wrong: a wrong token, an unknown worker, an unknown command', async () => {
    const unauthorized = await hodei(['workers', 'ls', '--url', t.url], {
      HODEI_API_TOKEN: 'wrong-token-wrong-token',
    });
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toContain('HTTP 401');
    const missing = await hodei(['workers', 'rm', 'ghost', '--url', t.url], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('WorkerNotFound');
    const unknown = await hodei(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
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
