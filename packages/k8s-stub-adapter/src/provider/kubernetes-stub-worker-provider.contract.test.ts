import type { ProviderId } from '@hodei/domain';
import { describeWorkerProviderContract, ManualClock } from '@hodei/domain/testing';
import { kubernetesContractSubject, simulatedKubernetes } from '../testing/index.js';

describeWorkerProviderContract('KubernetesStubWorkerProvider on a simulated cluster', () =>
  Promise.resolve(
    kubernetesContractSubject(
      simulatedKubernetes({
        clock: new ManualClock(),
        providerId: 'k8s-contract' as ProviderId,
        seed: 7,
      }),
    ),
  ),
);
