import { silentLogger } from '@hodei/domain';
import { SequentialIdGenerator, type LifecycleHarness } from '@hodei/domain/testing';
import { ok } from 'neverthrow';
import { RecoveryGate } from '../passes/recovery-gate.js';
import type { ProviderEntry } from './provider-entry.js';
import type { PressureGauge } from './publisher-pressure.js';
import { WorkerService } from './worker-service.js';

/**
 * For the workers' tests: the in-memory lifecycle harness wired as the server wires a
 * provider, so each test states only what it changes.
 */

/** The harness as the one provider entry, its recovery gate on the harness's manager. */
export function harnessEntry(h: LifecycleHarness): ProviderEntry {
  return {
    id: h.manager.providerId,
    kind: 'docker',
    provider: h.provider,
    policy: h.policy,
    lifecycle: {
      manager: h.manager,
      managed: h.managed,
      recovery: new RecoveryGate('fake', h.manager, silentLogger),
    },
  };
}

/** A WorkerService over the harness alone; `publisher` is the gauge a test switches. */
export function harnessService(h: LifecycleHarness, publisher?: PressureGauge): WorkerService {
  return new WorkerService({
    providers: [harnessEntry(h)],
    ids: new SequentialIdGenerator(),
    defaultImage: 'hodei/worker:test',
    maxWorkers: 10,
    history: { eventsOfWorker: () => Promise.resolve(ok([])) },
    logger: silentLogger,
    now: () => h.clock.now(),
    ...(publisher === undefined ? {} : { publisher }),
  });
}
