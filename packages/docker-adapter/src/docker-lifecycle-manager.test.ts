import { dockerProfile, kubernetesProfile, parseWorkerId, type ProviderId } from '@hodei/domain';
import { InMemoryWorkerProvider, ManualClock, RecordingPublisher } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { createDockerLifecycle, DockerLifecycleManager } from './docker-lifecycle-manager.js';

const provider = (): InMemoryWorkerProvider =>
  new InMemoryWorkerProvider('docker' as ProviderId, new ManualClock());

describe('DockerLifecycleManager', () => {
  it('uses the docker profile unless given a policy', () => {
    const publisher = new RecordingPublisher();
    expect(new DockerLifecycleManager({ provider: provider(), publisher }).policy).toEqual(
      dockerProfile,
    );
    expect(
      new DockerLifecycleManager({ provider: provider(), publisher, policy: kubernetesProfile })
        .policy,
    ).toEqual(kubernetesProfile);
  });
});

describe('createDockerLifecycle', () => {
  it('puts the decorator in front and has the manager hear the provider’s notifications', async () => {
    const fake = provider();
    const publisher = new RecordingPublisher();
    const lifecycle = createDockerLifecycle({ provider: fake, publisher })._unsafeUnwrap();
    const handle = (
      await lifecycle.provider.createWorker({
        workerId: parseWorkerId('w1')._unsafeUnwrap(),
        mode: 'job',
        image: 'hodei/worker:0.1.0',
        command: ['sleep', 'infinity'],
        policy: dockerProfile,
      })
    )._unsafeUnwrap();
    expect(lifecycle.manager.getWorker('w1')?.state).toBe('busy');
    fake.exit(handle.resourceId, 0);
    await lifecycle.manager.whenIdle();
    expect(lifecycle.manager.getWorker('w1')?.state).toBe('terminated');
    await lifecycle.close();
  });
});
