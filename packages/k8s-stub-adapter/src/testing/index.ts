export { kubernetesContractSubject, simulatedKubernetes } from './simulated-kubernetes.js';
export type { SimulatedKubernetes, SimulatedKubernetesOptions } from './simulated-kubernetes.js';
export { kubernetesLifecycleHarness } from './kubernetes-lifecycle-harness.js';
export type {
  KubernetesLifecycleHarness,
  KubernetesLifecycleHarnessOptions,
} from './kubernetes-lifecycle-harness.js';
