export { ManualClock } from './manual-clock.js';
export { SequentialIdGenerator } from './sequential-id-generator.js';
export { RecordingPublisher } from './recording-publisher.js';
export { RecordedEventHistory } from './recorded-event-history.js';
export { InMemoryWorkerProvider } from './in-memory-worker-provider.js';
export { simulateCommand } from '../provider/simulated-command.js';
export type { SimulatedRun } from '../provider/simulated-command.js';
export { sampleEvents } from './sample-events.js';
export { describeWorkerProviderContract } from './worker-provider.contract.js';
export type {
  ForeignResource,
  ProviderContractOptions,
  ProviderContractSubject,
} from './worker-provider.contract.js';
export { describePublisherContract } from './publisher.contract.js';
export type { PublisherContractSubject } from './publisher.contract.js';
export { asWorkerId, lifecycleHarness } from './lifecycle-harness.js';
export type { LifecycleHarness } from './lifecycle-harness.js';
