import {
  CLOUD_EVENT_TYPE_PREFIX,
  isLifecycleEventType,
  type LifecycleEventType,
} from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import { invalidWebhook, type InvalidWebhook } from './webhook.errors.js';

/**
 * The event types a webhook asks for, as short names (`WorkerEphemeralCreated`), from short or
 * CloudEvents names (`io.hodei.lifecycle.WorkerEphemeralCreated`); null: every type.
 */
export function parseEventTypes(
  types: readonly string[] | null | undefined,
): Result<readonly LifecycleEventType[] | null, InvalidWebhook> {
  if (types === undefined || types === null) return ok(null);
  if (types.length === 0)
    return err(invalidWebhook('types', 'types must not be empty (omit it for every type)'));
  const out: LifecycleEventType[] = [];
  for (const type of types) {
    const short = type.startsWith(CLOUD_EVENT_TYPE_PREFIX)
      ? type.slice(CLOUD_EVENT_TYPE_PREFIX.length)
      : type;
    if (!isLifecycleEventType(short)) {
      return err(invalidWebhook('types', `unknown event type ${JSON.stringify(type)}`));
    }
    if (!out.includes(short)) out.push(short);
  }
  return ok(out);
}
