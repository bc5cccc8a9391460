import type {
  EphemeralWorkerPolicy,
  LifecycleManagedWorkerProvider,
  LifecycleManager,
  ProviderId,
  WorkerProvider,
} from '@hodei/domain';
import type { ProviderKind } from '../config/config.js';
import type { RecoveryGate } from '../passes/recovery-gate.js';

/** One configured provider: bare, and with its lifecycle manager when the flag is on. */
export interface ProviderEntry {
  readonly id: ProviderId;
  readonly kind: ProviderKind;
  readonly provider: WorkerProvider;
  readonly policy: EphemeralWorkerPolicy;
  readonly lifecycle?: {
    readonly manager: LifecycleManager;
    readonly managed: LifecycleManagedWorkerProvider;
    /** Recovery after a restart; passes run only once it has succeeded. */
    readonly recovery: RecoveryGate;
  };
}
