// Simulated cluster
export { SimulatedCluster } from './cluster/simulated-cluster.js';
export { defaultWorkload } from './cluster/pod-runtime.js';
export { SeededRandom } from './cluster/seeded-random.js';
export { matchesSelector, parseLabelSelector } from './cluster/label-selector.js';
export type { InvalidSelector, LabelRequirement, LabelSelector } from './cluster/label-selector.js';
export { apiError, isRetryable } from './cluster/cluster-api.errors.js';
export type { ApiCause, ApiError, ApiErrorReason } from './cluster/cluster-api.errors.js';
export type {
  ApiFaultRates,
  ApiVerb,
  DeleteOptions,
  IJob,
  IPod,
  JobSpecPatch,
  ListMeta,
  ListOptions,
  ListPageOptions,
  LogEntry,
  MsRange,
  ObjectList,
  PodLog,
  PodSpecPatch,
  PropagationPolicy,
  SimulatedClusterOptions,
  SteppableClock,
  WatchEvent,
  WatchEventType,
  WatchOptions,
} from './cluster/cluster-types.js';

// Provider
export { KubernetesStubWorkerProvider } from './provider/kubernetes-stub-worker-provider.js';
export type { KubernetesStubProviderOptions } from './provider/kubernetes-stub-worker-provider.js';
export {
  buildWorkerJob,
  CONTAINER_NAME,
  isLabelValue,
  isQualifiedName,
  jobNameOf,
  splitLabels,
} from './provider/job-manifest.js';
export type { ImagePullPolicy, JobManifestOptions } from './provider/job-manifest.js';
export { jobWorkerStatus, podWorkerStatus } from './provider/map-pod-status.js';
export { mapApiError } from './provider/map-api-error.js';

// Lifecycle
export {
  createKubernetesLifecycle,
  KubernetesLifecycleManager,
} from './lifecycle/kubernetes-lifecycle-manager.js';
export type {
  KubernetesLifecycle,
  KubernetesLifecycleManagerDeps,
} from './lifecycle/kubernetes-lifecycle-manager.js';
