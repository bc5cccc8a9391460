import { describe, expect, it } from 'vitest';
import { imagePatternProblem, isImageAllowed, registryPattern } from './image-allowlist.js';

describe('isImageAllowed', () => {
  it('allows anything when no patterns are configured', () => {
    expect(isImageAllowed(undefined, '127.0.0.1:9/x:1')).toBe(true);
  });

  it.each([
    ['docker.io/**', 'alpine:3.20'],
    ['docker.io/**', 'hodei/worker:0.1.0'],
    ['alpine', 'alpine:3.20'],
    ['docker.io/library/*', 'busybox'],
    ['registry.example.com:5000/team/**', 'registry.example.com:5000/team/a/b:1'],
    ['ghcr.io/org/app:1.*', 'ghcr.io/org/app:1.4'],
  ])('%s allows %s', (pattern, image) => {
    expect(isImageAllowed([pattern], image)).toBe(true);
  });

  it.each([
    ['docker.io/**', '127.0.0.1:9/x:1'],
    ['docker.io/**', 'docker.io.evil.example/x:1'],
    ['docker.io/library/*', 'hodei/worker:0.1.0'],
    ['alpine', 'localhost/alpine'],
    ['registry.example.com:5000/team/*', 'registry.example.com:5000/team/a/b:1'],
    ['ghcr.io/org/app:1.*', 'ghcr.io/org/app:2.0'],
    ['docker.io/**', 'not a reference'],
  ])('%s refuses %s', (pattern, image) => {
    expect(isImageAllowed([pattern], image)).toBe(false);
  });

  it('allows an image any one of several patterns matches, and none when the list is empty', () => {
    expect(isImageAllowed(['ghcr.io/**', 'quay.io/**'], 'quay.io/a/b')).toBe(true);
    expect(isImageAllowed([], 'alpine')).toBe(false);
  });
});

describe('registryPattern and imagePatternProblem', () => {
  it('turns an image into the pattern of its whole registry', () => {
    expect(registryPattern('hodei/worker:0.1.0')).toBe('docker.io/**');
    expect(registryPattern('registry.example.com:5000/w:1')).toBe('registry.example.com:5000/**');
  });

  it('rejects patterns with characters no reference has', () => {
    expect(imagePatternProblem('ghcr.io/**')).toBeUndefined();
    expect(imagePatternProblem('ghcr.io/$(x)')).toMatch(/not an image pattern/);
  });
});
