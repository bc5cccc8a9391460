import { describe, expect, it } from 'vitest';
import { dockerProfile } from '../policy/profiles.js';
import type { ProviderId, WorkerId } from '../worker/ids.js';
import { InMemoryWorkerProvider } from './in-memory-worker-provider.js';
import { ManualClock } from './manual-clock.js';
import { describeWorkerProviderContract } from './worker-provider.contract.js';

describeWorkerProviderContract('in-memory fake', () => {
  const clock = new ManualClock();
  const provider = new InMemoryWorkerProvider('fake' as ProviderId, clock);
  return Promise.resolve({
    provider,
    image: 'hodei/worker:test',
    workerIdPrefix: 'contract',
    advance: (ms: number) => {
      clock.advance(ms);
      provider.settle();
      return Promise.resolve();
    },
    createForeignResource: (labels: Record<string, string>) => {
      const resourceId = provider.addResource({ labels, command: ['sleep', 'infinity'] });
      return Promise.resolve({
        resourceId,
        exists: () => Promise.resolve(provider.has(resourceId)),
        remove: () => {
          provider.vanish(resourceId);
          return Promise.resolve();
        },
      });
    },
    teardown: () => Promise.resolve(),
  });
});

describe('InMemoryWorkerProvider fault injection', () => {
  const spec = (workerId: string) => ({
    workerId: workerId as WorkerId,
    mode: 'job' as const,
    image: 'img',
    command: ['sleep', 'infinity'],
    policy: dockerProfile,
  });

  it('fails the next call of an operation as told, then works again', async () => {
    const provider = new InMemoryWorkerProvider('fake' as ProviderId, new ManualClock());
    provider.failNext('createWorker');
    expect((await provider.createWorker(spec('a'))).isErr()).toBe(true);
    expect((await provider.createWorker(spec('a'))).isOk()).toBe(true);
  });

  it('reports a vanished resource as missing and an exited one with its code', async () => {
    const provider = new InMemoryWorkerProvider('fake' as ProviderId, new ManualClock());
    const a = (await provider.createWorker(spec('a')))._unsafeUnwrap();
    const b = (await provider.createWorker(spec('b')))._unsafeUnwrap();
    provider.vanish(a.resourceId);
    provider.exit(b.resourceId, 137, { oomKilled: true });
    expect((await provider.getWorkerStatus(a))._unsafeUnwrap()).toEqual({ state: 'missing' });
    expect((await provider.getWorkerStatus(b))._unsafeUnwrap()).toMatchObject({
      state: 'exited',
      exitCode: 137,
      oomKilled: true,
    });
  });
});
