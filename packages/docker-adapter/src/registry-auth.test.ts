import { parseProviderId } from '@hodei/domain';
import { describe, expect, it } from 'vitest';
import { validateProviderOptions } from './docker-provider-options.js';
import { registryAuthFor, registryOfServerAddress } from './registry-auth.js';

const providerId = parseProviderId('docker')._unsafeUnwrap();
const hub = { serveraddress: 'https://index.docker.io/v1/', username: 'u', password: 'hub-secret' };
const own = { serveraddress: 'registry.example.com:5000', username: 'u', password: 'own-secret' };

describe('registry credentials', () => {
  it('reads a server address as the registry part of an image reference', () => {
    expect(registryOfServerAddress('https://index.docker.io/v1/')).toBe('docker.io');
    expect(registryOfServerAddress('registry-1.docker.io')).toBe('docker.io');
    expect(registryOfServerAddress('Registry.Example.com:5000')).toBe('registry.example.com:5000');
  });

  it('picks the credentials of the registry an image comes from, and no other', () => {
    expect(registryAuthFor([hub, own], 'alpine:3')).toBe(hub);
    expect(registryAuthFor([hub, own], 'registry.example.com:5000/team/app:1')).toBe(own);
    expect(registryAuthFor([hub, own], 'ghcr.io/acme/app:1')).toBeUndefined();
    expect(registryAuthFor([own], 'registry.example.com/team/app:1')).toBeUndefined();
  });

  it('lists every problem of the credentials without showing them', () => {
    const checked = validateProviderOptions({
      providerId,
      registryAuth: [
        { serveraddress: 'not a host', username: 'alice', password: 'pa55word' },
        { serveraddress: 'ghcr.io', username: 'bob' },
        { serveraddress: 'GHCR.io', identitytoken: 'tok3n' },
      ],
    });
    const error = checked._unsafeUnwrapErr();
    expect(error.problems.map((p) => p.path)).toEqual([
      'registryAuth.0.serveraddress',
      'registryAuth.1.password',
      'registryAuth.2.serveraddress',
    ]);
    for (const secret of ['alice', 'pa55word', 'bob', 'tok3n']) {
      expect(JSON.stringify(error)).not.toContain(secret);
    }
  });

  it('names the fields of a single entry without an index', () => {
    const error = validateProviderOptions({
      providerId,
      registryAuth: { serveraddress: 'registry.example.com', password: 'p' },
    })._unsafeUnwrapErr();
    expect(error.problems).toEqual([
      {
        path: 'registryAuth.username',
        message: 'must be given with a password (or use identitytoken)',
      },
    ]);
  });
});

describe('network option', () => {
  it('takes a network name or id, host, none or container:<name>', () => {
    for (const network of ['ci-net', 'host', 'none', 'bridge', 'container:vpn', 'a1b2c3']) {
      expect(validateProviderOptions({ providerId, network }).isOk()).toBe(true);
    }
  });

  it('refuses anything else, naming what it accepts', () => {
    expect(
      validateProviderOptions({ providerId, network: 'ci net' })._unsafeUnwrapErr().problems,
    ).toEqual([
      {
        path: 'network',
        message:
          'must be a Docker network name or id (like ci-net, host or none) or container:<name>',
      },
    ]);
  });
});
