import { describe, expect, it } from 'vitest';
import { kubernetesProfile } from '../policy/profiles.js';
import type { WorkerSpec } from '../ports/worker-provider.port.js';
import type { ProviderId, WorkerId } from '../worker/ids.js';
import {
  isOwnedBy,
  OWNERSHIP_LABELS,
  ownershipEnv,
  ownershipLabels,
  parseOwnership,
  reservedKeyProblems,
} from './ownership.js';

const spec: WorkerSpec = {
  workerId: 'w-1' as WorkerId,
  mode: 'agent',
  readiness: 'external',
  image: 'img',
  labels: { team: 'ci' },
  env: { FOO: 'bar' },
  policy: kubernetesProfile,
};
const docker = 'docker' as ProviderId;

describe('ownership labels', () => {
  it('carry the facts recovery needs, and read back to them', () => {
    const labels = ownershipLabels(spec, docker, Date.parse('2025-01-01T00:00:00Z'));
    expect(labels).toMatchObject({
      team: 'ci',
      'hodei.managed': 'true',
      'hodei.provider-id': 'docker',
      'hodei.worker-id': 'w-1',
      'hodei.mode': 'agent',
      'hodei.readiness': 'external',
      'hodei.created-at': '2025-01-01T00:00:00.000Z',
    });
    expect(parseOwnership(labels, docker)._unsafeUnwrap()).toEqual({
      providerId: docker,
      workerId: 'w-1',
      mode: 'agent',
      readiness: 'external',
      createdAt: Date.parse('2025-01-01T00:00:00Z'),
      policy: kubernetesProfile,
    });
  });

  it('belong to exactly one provider id', () => {
    const labels = ownershipLabels(spec, docker, 0);
    expect(isOwnedBy(labels, docker)).toBe(true);
    expect(isOwnedBy(labels, 'docker-2' as ProviderId)).toBe(false);
    expect(isOwnedBy({ ...labels, [OWNERSHIP_LABELS.managed]: 'false' }, docker)).toBe(false);
    expect(isOwnedBy({}, docker)).toBe(false);
    expect(parseOwnership(labels, 'other' as ProviderId).isErr()).toBe(true);
  });

  it('refuse labels that cannot be read', () => {
    const labels = ownershipLabels(spec, docker, 0);
    expect(
      parseOwnership({ ...labels, [OWNERSHIP_LABELS.policy]: '{' }, docker)._unsafeUnwrapErr()
        .message,
    ).toMatch(/policy/);
    expect(
      parseOwnership({ ...labels, [OWNERSHIP_LABELS.mode]: 'daemon' }, docker)._unsafeUnwrapErr()
        .message,
    ).toMatch(/mode/);
    expect(
      parseOwnership(
        { ...labels, [OWNERSHIP_LABELS.createdAt]: 'yesterday' },
        docker,
      )._unsafeUnwrapErr().message,
    ).toMatch(/creation/);
  });

  it('add the worker and provider ids to the environment', () => {
    expect(ownershipEnv(spec, docker)).toEqual({
      FOO: 'bar',
      HODEI_WORKER_ID: 'w-1',
      HODEI_PROVIDER_ID: 'docker',
      HODEI_WORKER_MODE: 'agent',
    });
  });

  it('reserve hodei. labels and HODEI_ variables, whatever their case', () => {
    expect(
      reservedKeyProblems({
        labels: { 'Hodei.x': '1', ok: '2' },
        env: { hodei_y: '1', PATH: '/bin' },
      }),
    ).toEqual([
      { path: 'labels.Hodei.x', message: "labels under 'hodei.' are reserved" },
      { path: 'env.hodei_y', message: "environment variables under 'HODEI_' are reserved" },
    ]);
  });
});
