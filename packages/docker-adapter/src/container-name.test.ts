import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTAINER_NAME_MAX_LENGTH, containerName, legacyContainerName } from './container-name.js';

/** Ids as `parseWorkerId` and `parseProviderId` accept them. */
const id = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$/);
/** What Docker accepts as a container name. */
const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

describe('containerName', () => {
  it('names the provider and the worker, as docker ps shows them', () => {
    expect(containerName('ci-a', 'job-1')).toBe('hodei-ci-a.job-1');
    expect(containerName('ci-b', 'job-1')).toBe('hodei-ci-b.job-1');
  });

  it('keeps ids whose dashes could be read either way apart', () => {
    expect(containerName('a', 'b-c')).not.toBe(containerName('a-b', 'c'));
  });

  it('cuts both ids and adds a hash of the pair when the name would pass 63 characters', () => {
    const provider = 'p'.repeat(50);
    const worker = `${'w'.repeat(49)}1`;
    const name = containerName(provider, worker);
    expect(name).toMatch(/^hodei-p{21}\.w{22}\.[0-9a-f]{12}$/);
    expect(name).toHaveLength(CONTAINER_NAME_MAX_LENGTH);
    expect(containerName(provider, `${'w'.repeat(49)}2`)).not.toBe(name);
  });

  it('gives a short id in full and the rest of the room to the other', () => {
    expect(containerName('ci-runners-a', 'w'.repeat(50))).toMatch(
      /^hodei-ci-runners-a\.w{31}\.[0-9a-f]{12}$/,
    );
    expect(containerName('p'.repeat(50), 'job-12')).toBe(`hodei-${'p'.repeat(50)}.job-12`);
    expect(containerName('p'.repeat(50), 'job-123')).toMatch(
      /^hodei-p{36}\.job-123\.[0-9a-f]{12}$/,
    );
  });

  it('is a valid Docker name of at most 63 characters for any two ids', () => {
    fc.assert(
      fc.property(id, id, (provider, worker) => {
        const name = containerName(provider, worker);
        expect(name.length).toBeLessThanOrEqual(CONTAINER_NAME_MAX_LENGTH);
        expect(name).toMatch(DOCKER_NAME);
        expect(name.startsWith(`hodei-${provider.slice(0, 20).replace(/-+$/, '')}`)).toBe(true);
      }),
    );
  });

  it('is unique per (provider, worker) and never the name of an earlier version', () => {
    fc.assert(
      fc.property(id, id, id, id, (p1, w1, p2, w2) => {
        fc.pre(p1 !== p2 || w1 !== w2);
        expect(containerName(p1, w1)).not.toBe(containerName(p2, w2));
        expect(containerName(p1, w1)).not.toBe(legacyContainerName(w2));
      }),
    );
  });

  it('keeps long pairs that share their cut prefixes apart', () => {
    const long = (tail: string) => `${'x'.repeat(40)}-${tail}`;
    const names = new Set<string>();
    for (let i = 0; i < 200; i++) names.add(containerName(long('p'), long(`w${i}`)));
    expect(names.size).toBe(200);
  });
});
