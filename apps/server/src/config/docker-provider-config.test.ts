import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dockerProviderOptions, formatConfigProblems, parseConfig } from './config.js';
import { DOCKER_SETTINGS, providerVariable, SETTING_SUFFIXES } from './docker-settings.js';

const dockerOf = (env: Record<string, string>, id: string) => {
  const provider = parseConfig(env)
    ._unsafeUnwrap()
    .providers.find((p) => p.id === id);
  if (provider?.kind !== 'docker') throw new Error(`no docker provider ${id}`);
  return provider.docker;
};

describe('Docker settings per provider', () => {
  it('gives every docker provider the shared variables, and each its own over them', () => {
    const env = {
      HODEI_PROVIDERS: 'docker:ci-a,docker:ci-b,k8s-stub:sim',
      HODEI_DOCKER_NETWORK: 'ci-net',
      HODEI_WORKER_MEMORY_MB: '512',
      HODEI_PROVIDER_CI_A_DOCKER_HOST: 'tcp://10.0.0.5:2375',
      HODEI_PROVIDER_CI_B_DOCKER_HOST: 'unix:///run/ci-b/docker.sock',
      HODEI_PROVIDER_CI_B_DOCKER_NETWORK: 'none',
      HODEI_PROVIDER_CI_B_WORKER_CPUS: '0.5',
      HODEI_PROVIDER_CI_B_WORKER_PIDS_LIMIT: '256',
    };
    expect(dockerOf(env, 'ci-a')).toMatchObject({
      dockerHost: 'tcp://10.0.0.5:2375',
      network: 'ci-net',
      defaultMemoryMb: 512,
    });
    expect(dockerOf(env, 'ci-a').defaultCpus).toBeUndefined();
    expect(dockerOf(env, 'ci-b')).toMatchObject({
      dockerHost: 'unix:///run/ci-b/docker.sock',
      network: 'none',
      defaultMemoryMb: 512,
      defaultCpus: 0.5,
      defaultPidsLimit: 256,
    });
  });

  it('takes DOCKER_HOST for a docker provider without its own host', () => {
    const env = { HODEI_PROVIDERS: 'docker:a,docker:b', DOCKER_HOST: 'tcp://h:2375' };
    expect(dockerOf(env, 'a').dockerHost).toBe('tcp://h:2375');
    expect(dockerOf({ HODEI_PROVIDERS: 'docker:a' }, 'a').dockerHost).toBeUndefined();
  });

  it('hands the adapter its options, credentials included, and no host', () => {
    const docker = dockerOf(
      {
        HODEI_PROVIDERS: 'docker:ci-a',
        HODEI_PROVIDER_CI_A_DOCKER_HOST: 'tcp://10.0.0.5:2375',
        HODEI_PROVIDER_CI_A_DOCKER_NETWORK: 'ci-net',
        HODEI_PROVIDER_CI_A_DOCKER_REGISTRY_SERVER: 'registry.example.com',
        HODEI_PROVIDER_CI_A_DOCKER_REGISTRY_USERNAME: 'u',
        HODEI_PROVIDER_CI_A_DOCKER_REGISTRY_PASSWORD: 'p4ss',
      },
      'ci-a',
    );
    const options = dockerProviderOptions(docker);
    expect(options).toMatchObject({
      network: 'ci-net',
      registryAuth: { serveraddress: 'registry.example.com', username: 'u', password: 'p4ss' },
    });
    expect(options).not.toHaveProperty('dockerHost');
  });

  it('never shows registry credentials when the configuration is logged or printed', () => {
    const config = parseConfig({
      HODEI_DOCKER_REGISTRY_SERVER: 'registry.example.com',
      HODEI_DOCKER_REGISTRY_USERNAME: 'alice',
      HODEI_DOCKER_REGISTRY_PASSWORD: 'p4ssw0rd',
    })._unsafeUnwrap();
    for (const text of [
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      String(config.dockerWorkers.registryAuth),
    ]) {
      expect(text).toContain('registry.example.com');
      expect(text).not.toContain('alice');
      expect(text).not.toContain('p4ssw0rd');
    }
  });

  it('names each bad provider variable with what it accepts, never echoing a credential', () => {
    const problems = parseConfig({
      HODEI_PROVIDERS: 'docker:ci-a,docker:ci-b',
      DOCKER_HOST: 'ssh://me@host',
      HODEI_PROVIDER_CI_A_DOCKER_NETWORK: 'ci net',
      HODEI_PROVIDER_CI_A_WORKER_MEMORY_MB: 'lots',
      HODEI_PROVIDER_CI_B_DOCKER_HOST: 'tcp://10.0.0.6:2375',
      HODEI_PROVIDER_CI_B_DOCKER_REGISTRY_USERNAME: 'alice',
      HODEI_PROVIDER_CI_B_DOCKER_REGISTRY_PASSWORD: 'p4ssw0rd',
    })._unsafeUnwrapErr();
    expect(problems.map((p) => [p.variable, p.accepts])).toEqual([
      ['DOCKER_HOST', 'unix:///path/to/docker.sock or tcp://host:port'],
      ['HODEI_PROVIDER_CI_A_WORKER_MEMORY_MB', 'a number, 0 for no limit'],
      [
        'HODEI_PROVIDER_CI_A_DOCKER_NETWORK',
        'a Docker network name or id (like ci-net, host or none) or container:<name>',
      ],
      [
        'HODEI_PROVIDER_CI_B_DOCKER_REGISTRY_SERVER',
        'a registry host like registry.example.com or 127.0.0.1:5000 (docker.io for Docker Hub)',
      ],
    ]);
    const text = formatConfigProblems(problems);
    expect(text).not.toContain('alice');
    expect(text).not.toContain('p4ssw0rd');
  });

  it('asks for the whole of the credentials, naming the missing ones', () => {
    const problems = parseConfig({
      HODEI_PROVIDERS: 'docker:ci-a',
      HODEI_PROVIDER_CI_A_DOCKER_REGISTRY_SERVER: 'ghcr.io',
      HODEI_PROVIDER_CI_A_DOCKER_REGISTRY_USERNAME: 'alice',
    })._unsafeUnwrapErr();
    expect(problems).toEqual([
      {
        variable: 'HODEI_PROVIDER_CI_A_DOCKER_REGISTRY_PASSWORD',
        value: '',
        accepts:
          'the registry password; the registry credentials need a server, a username and a password',
      },
    ]);
  });

  it('reports a per-provider variable naming no configured docker provider or no setting', () => {
    const problems = parseConfig({
      HODEI_PROVIDERS: 'docker:ci-a,k8s-stub:sim',
      HODEI_PROVIDER_CIA_DOCKER_NETWORK: 'ci-net',
      HODEI_PROVIDER_CI_A_NETWORK: 'secret-looking',
      HODEI_PROVIDER_SIM_WORKER_CPUS: '1',
      // Every worker container has it: a server run inside one must start.
      HODEI_PROVIDER_ID: 'outer',
    })._unsafeUnwrapErr();
    expect(problems.map((p) => p.variable)).toEqual([
      'HODEI_PROVIDER_CIA_DOCKER_NETWORK',
      'HODEI_PROVIDER_CI_A_NETWORK',
      'HODEI_PROVIDER_SIM_WORKER_CPUS',
    ]);
    expect(problems.every((p) => p.unknown === true && p.value === '')).toBe(true);
    expect(formatConfigProblems(problems)).toContain(
      'HODEI_PROVIDER_CIA_DOCKER_NETWORK is unknown: it accepts HODEI_PROVIDER_<ID>_<SETTING> for a docker provider of HODEI_PROVIDERS (ID CI_A), SETTING one of DOCKER_HOST, DOCKER_NETWORK,',
    );
    expect(formatConfigProblems(problems)).not.toContain('secret-looking');
  });

  it('leaves other HODEI_PROVIDER_ variables to their own readers', () => {
    expect(
      parseConfig({
        HODEI_PROVIDERS: 'docker:ci-a',
        HODEI_PROVIDER_DEGRADED_FOR_SECONDS: '30',
      }).isOk(),
    ).toBe(true);
  });

  it('gives every (provider, setting) its own variable name', () => {
    // No setting's name ends in another's: HODEI_PROVIDER_A_WORKER_CPUS is only a's WORKER_CPUS.
    for (const a of SETTING_SUFFIXES) {
      for (const b of SETTING_SUFFIXES) if (a !== b) expect(a.endsWith(`_${b}`)).toBe(false);
    }
    const names = new Set<string>();
    for (const id of ['a', 'a-b', 'a-worker', 'b', 'docker', 'ci-a']) {
      for (const s of DOCKER_SETTINGS) names.add(providerVariable(id, s.variable));
    }
    expect(names.size).toBe(6 * DOCKER_SETTINGS.length);
    expect(providerVariable('ci-a', 'DOCKER_HOST')).toBe('HODEI_PROVIDER_CI_A_DOCKER_HOST');
    expect(providerVariable('ci-a', 'HODEI_WORKER_CPUS')).toBe('HODEI_PROVIDER_CI_A_WORKER_CPUS');
  });
});

describe('credentials inside URLs', () => {
  it('are never echoed in a problem (DOCKER_HOST, the registry server)', () => {
    const parsed = parseConfig({
      DOCKER_HOST: 'tcp://user:PASSW0RD@host:2375/path',
      HODEI_DOCKER_REGISTRY_SERVER: 'https://u:TOKEN123@r.example.com/x',
      HODEI_DOCKER_REGISTRY_USERNAME: 'u',
    });
    const text = formatConfigProblems(parsed._unsafeUnwrapErr());
    expect(text).toContain('DOCKER_HOST="tcp://<redacted>@host:2375/path"');
    expect(text).not.toContain('PASSW0RD');
    expect(text).not.toContain('TOKEN123');
  });
});
