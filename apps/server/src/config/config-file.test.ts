import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerProviderOptions, formatConfigProblems, parseConfig } from './config.js';
import { variableOfKey } from './config-file.js';

const dir = mkdtempSync(join(tmpdir(), 'hodei-config-'));
let files = 0;

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A configuration file with `text`, and the environment that names it. */
const withFile = (text: string, env: Record<string, string> = {}) => {
  const path = join(dir, `hodei-${++files}.yaml`);
  writeFileSync(path, text);
  return { path, env: { HODEI_CONFIG_FILE: path, ...env } };
};

const EXAMPLE = `# hodei.yaml
httpPort: 9090
logLevel: debug
maxWorkers: 20
databaseUrl: postgres://hodei:hodei@db/hodei
eventPublisher: [postgres, logger]
docker:
  network: shared-net
  workerDefaults: { memoryMb: 1024 }
providers:
  - kind: docker
    id: ci-a
    dockerHost: tcp://10.0.0.5:2375
    network: ci-net
    registryAuth: { username: u, password: p, serveraddress: registry.example.com }
    workerDefaults: { memoryMb: 512, cpus: 0.5, pidsLimit: 256 }
  - kind: docker
    id: ci-b
    allowedImages:
      - registry.example.com/**
      - docker.io/library/*
  - kind: k8s-stub
    id: sim
`;

describe('the configuration file', () => {
  it('reads server settings, the docker defaults and each provider with its own', () => {
    const config = parseConfig(withFile(EXAMPLE).env)._unsafeUnwrap();
    expect(config).toMatchObject({
      httpPort: 9090,
      logLevel: 'debug',
      maxWorkers: 20,
      databaseUrl: 'postgres://hodei:hodei@db/hodei',
      publishers: ['postgres', 'logger'],
    });
    expect(config.providers.map((p) => `${p.kind}:${p.id}`)).toEqual([
      'docker:ci-a',
      'docker:ci-b',
      'k8s-stub:sim',
    ]);
    const [a, b] = config.providers;
    if (a?.kind !== 'docker' || b?.kind !== 'docker') throw new Error('not docker');
    expect(a.docker).toMatchObject({
      dockerHost: 'tcp://10.0.0.5:2375',
      network: 'ci-net',
      defaultMemoryMb: 512,
      defaultCpus: 0.5,
      defaultPidsLimit: 256,
    });
    expect(dockerProviderOptions(a.docker).registryAuth).toEqual({
      serveraddress: 'registry.example.com',
      username: 'u',
      password: 'p',
    });
    expect(b.docker).toMatchObject({
      network: 'shared-net',
      defaultMemoryMb: 1024,
      allowedImages: ['registry.example.com/**', 'docker.io/library/*'],
    });
    expect(b.docker.registryAuth).toBeUndefined();
    expect(config.configFile).toMatch(/hodei-\d+\.yaml$/);
  });

  it('lets the environment win over the file, and a provider’s own setting over the shared one', () => {
    const { env } = withFile(EXAMPLE, {
      HODEI_HTTP_PORT: '8081',
      HODEI_DOCKER_NETWORK: 'env-net',
      HODEI_PROVIDER_CI_A_WORKER_CPUS: '2',
      HODEI_LOG_LEVEL: ' ', // blank counts as unset: the file's value stays
    });
    const config = parseConfig(env)._unsafeUnwrap();
    expect(config.httpPort).toBe(8081);
    expect(config.logLevel).toBe('debug');
    const [a, b] = config.providers;
    if (a?.kind !== 'docker' || b?.kind !== 'docker') throw new Error('not docker');
    // ci-a's network is its own (the file's entry); ci-b takes the shared one, from the env.
    expect(a.docker).toMatchObject({ network: 'ci-net', defaultCpus: 2 });
    expect(b.docker.network).toBe('env-net');
  });

  it('takes HODEI_PROVIDERS over the file’s list, the file still giving settings by id', () => {
    const { env } = withFile(EXAMPLE, { HODEI_PROVIDERS: 'docker:ci-a' });
    const config = parseConfig(env)._unsafeUnwrap();
    expect(config.providers).toMatchObject([
      { kind: 'docker', id: 'ci-a', docker: { network: 'ci-net' } },
    ]);
    const clash = parseConfig(withFile(EXAMPLE, { HODEI_PROVIDERS: 'k8s-stub:ci-a' }).env);
    expect(clash._unsafeUnwrapErr()).toMatchObject([
      {
        variable: 'providers[0].kind',
        value: 'docker',
        accepts: 'k8s-stub, the kind HODEI_PROVIDERS gives ci-a',
        line: 11,
      },
    ]);
  });

  it('names each bad value by its key and line, with what it accepts, never a credential', () => {
    const { path, env } = withFile(`httpPort: 80800
providers:
  - kind: docker
    id: ci-a
    network: "ci net"
    registryAuth:
      username: alice
      password: p4ssw0rd
    workerDefaults:
      memoryMb: 2
`);
    const problems = parseConfig(env)._unsafeUnwrapErr();
    expect(problems.map((p) => [p.variable, p.line])).toEqual([
      ['httpPort', 1],
      ['providers[0].workerDefaults.memoryMb', 10],
      ['providers[0].network', 5],
      // Missing beside the other two: named by its key, at the line of the first.
      ['providers[0].registryAuth.serveraddress', 7],
    ]);
    const text = formatConfigProblems(problems);
    expect(text).toContain(
      `${path}:1: httpPort="80800" is invalid: it accepts a TCP port from 0 to 65535`,
    );
    expect(text).toContain(
      `${path}:10: providers[0].workerDefaults.memoryMb="2" is invalid: it accepts 0 (no limit) or at least 6`,
    );
    expect(text).not.toContain('alice');
    expect(text).not.toContain('p4ssw0rd');
  });

  it('reports unknown keys with their line, never their values', () => {
    const { path, env } = withFile(`httpPrt: 8080
workerMemoryMb: 512
providers:
  - kind: docker
    netwrk: ci-net
    registryAuth: { user: alice, pasword: p4ssw0rd, serveraddress: ghcr.io }
  - kind: k8s-stub
    network: x
`);
    const problems = parseConfig(env)._unsafeUnwrapErr();
    expect(problems.map((p) => [p.variable, p.line, p.unknown ?? false])).toEqual([
      ['workerMemoryMb', 2, true],
      ['providers[0].netwrk', 5, true],
      ['providers[0].registryAuth.user', 6, true],
      ['providers[0].registryAuth.pasword', 6, true],
      ['providers[1].network', 8, true],
      // What the misspelt keys left out of the credentials.
      ['providers[0].registryAuth.username', 6, false],
      ['providers[0].registryAuth.password', 6, false],
      // Known only once every reader ran.
      ['httpPrt', 1, true],
    ]);
    const text = formatConfigProblems(problems);
    expect(text).toContain(
      `${path}:2: workerMemoryMb is unknown: it accepts a server setting; workerMemoryMb is a Docker setting: docker.workerDefaults.memoryMb (every docker provider) or workerDefaults.memoryMb in a providers entry`,
    );
    expect(text).toContain(
      `${path}:5: providers[0].netwrk is unknown: it accepts one of kind, id, dockerHost, network,`,
    );
    expect(text).toContain(
      `${path}:6: providers[0].registryAuth.pasword is unknown: it accepts one of serveraddress, username, password`,
    );
    expect(text).toContain(`${path}:1: httpPrt is unknown: it accepts a server setting`);
    expect(text).not.toContain('p4ssw0rd');
    expect(text).not.toContain('alice');
  });

  it('names the file and the line it cannot parse, without quoting it', () => {
    const { path, env } = withFile(`httpPort: 8080
providers:
  - kind: docker
    registryAuth: { password: p4ss: w0rd }
`);
    const problems = parseConfig(env)._unsafeUnwrapErr();
    expect(problems[0]).toMatchObject({
      variable: 'HODEI_CONFIG_FILE',
      value: path,
      file: path,
      line: 4,
    });
    expect(problems[0]?.accepts).toMatch(/^YAML; /);
    expect(formatConfigProblems(problems)).not.toContain('w0rd');
  });

  it('names a file it cannot read', () => {
    const missing = join(dir, 'missing.yaml');
    const problems = parseConfig({ HODEI_CONFIG_FILE: missing })._unsafeUnwrapErr();
    expect(problems).toEqual([
      {
        variable: 'HODEI_CONFIG_FILE',
        value: missing,
        accepts: expect.stringContaining('the path of a readable YAML file; ENOENT') as string,
      },
    ]);
  });

  it('checks the shape of the providers list', () => {
    const { env } = withFile(`providers:
  - kind: nomad
  - kind: docker
    id: Bad_Id
  - kind: docker
  - kind: docker
  - just-a-string
`);
    const problems = parseConfig(env)._unsafeUnwrapErr();
    expect(problems.map((p) => [p.variable, p.line, p.value])).toEqual([
      ['providers[0].kind', 2, 'nomad'],
      ['providers[1].id', 4, 'Bad_Id'],
      ['providers[3].id', 6, 'docker'],
      ['providers[4]', 7, ''],
    ]);
  });

  it('treats an empty file and null values as unset', () => {
    expect(parseConfig(withFile('').env)._unsafeUnwrap().httpPort).toBe(8080);
    expect(parseConfig(withFile('httpPort:\ndocker:\n').env)._unsafeUnwrap().httpPort).toBe(8080);
  });

  it('maps each top-level key to its variable in camelCase', () => {
    expect(variableOfKey('httpPort')).toBe('HODEI_HTTP_PORT');
    expect(variableOfKey('gcIntervalSeconds')).toBe('HODEI_GC_INTERVAL_SECONDS');
    expect(variableOfKey('sseCatchupMaxEvents')).toBe('HODEI_SSE_CATCHUP_MAX_EVENTS');
    expect(variableOfKey('databaseUrl')).toBe('DATABASE_URL');
  });
});
