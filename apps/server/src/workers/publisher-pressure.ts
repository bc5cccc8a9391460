import type { LifecycleEventPublisher } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import type { WorkerServiceError } from './service.errors.js';

/** Whatever says whether the event log can take API-initiated events now. */
export type PressureGauge = Pick<LifecycleEventPublisher, 'backpressure'>;

/**
 * Checked before every API-initiated change, before anything changes: an event the publisher
 * would refuse must not follow a change already made (it would be lost from the record).
 */
export function checkPressure(gauge: PressureGauge | undefined): Result<void, WorkerServiceError> {
  const pressure = gauge?.backpressure?.() ?? null;
  return pressure?.type === 'PublisherBackpressure' ? err(pressure) : ok(undefined);
}
