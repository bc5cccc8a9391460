import { describe, expect, it } from 'vitest';
import {
  imageReferenceProblem,
  normalizeImageReference,
  withDefaultTag,
} from './image-reference.js';

describe('imageReferenceProblem', () => {
  it.each([
    'busybox',
    'hodei/worker:0.1.0',
    'registry.example.com:5000/team/app:v1.2',
    'localhost/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'ghcr.io/org/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  ])('accepts %s', (reference) => {
    expect(imageReferenceProblem(reference)).toBeUndefined();
  });

  it.each(['', 'Busybox', 'busy box', 'app:', ':tag', 'app::1', 'a//b', '-app', 'app@sha256:xyz'])(
    'rejects %j',
    (reference) => {
      expect(imageReferenceProblem(reference)).toMatch(/image/);
    },
  );
});

describe('withDefaultTag', () => {
  it('adds latest only when the reference names no tag or digest', () => {
    expect(withDefaultTag('busybox')).toBe('busybox:latest');
    expect(withDefaultTag('localhost:5000/app')).toBe('localhost:5000/app:latest');
    expect(withDefaultTag('hodei/worker:0.1.0')).toBe('hodei/worker:0.1.0');
  });
});

describe('normalizeImageReference', () => {
  it.each([
    ['busybox', 'docker.io', 'docker.io/library/busybox:latest'],
    ['hodei/worker:0.1.0', 'docker.io', 'docker.io/hodei/worker:0.1.0'],
    ['index.docker.io/library/alpine:3', 'docker.io', 'docker.io/library/alpine:3'],
    ['localhost/app', 'localhost', 'localhost/app:latest'],
    ['127.0.0.1:9/x/y:1', '127.0.0.1:9', '127.0.0.1:9/x/y:1'],
    [
      'ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef',
      'ghcr.io',
      'ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef',
    ],
  ])('resolves %s to registry %s as %s', (reference, registry, full) => {
    expect(normalizeImageReference(reference)).toMatchObject({ registry, full });
  });
});
