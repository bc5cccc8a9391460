import { okAsync } from 'neverthrow';
import { isOwnedBy, OWNERSHIP_LABELS, type WorkerId } from '@hodei/domain';
import { containerName } from './container-name.js';
import { forceRemoveContainer } from './container-teardown.js';
import { inspectContainer } from './inspect-container.js';
import type { DockerProviderContext } from './provider-context.js';

/** When to look again for a container whose creation timed out. */
const ABANDONED_RECHECKS_MS = [1_000, 5_000, 30_000, 120_000] as const;

/**
 * A createContainer that timed out may still complete, even much later: look for what it
 * left now and again after a while, and remove it if it is ours and from this attempt (its
 * creation stamp says so).
 */
export function removeAbandonedContainer(
  context: DockerProviderContext,
  workerId: WorkerId,
  createdAt: number,
): void {
  const name = containerName(context.providerId, workerId);
  const stamp = new Date(createdAt).toISOString();
  const attempt = (delays: readonly number[]): void => {
    void inspectContainer(context, name)
      .andThen((info) => {
        const ours =
          info !== null &&
          isOwnedBy(info.Config.Labels ?? {}, context.providerId) &&
          info.Config.Labels?.[OWNERSHIP_LABELS.createdAt] === stamp;
        if (ours) return forceRemoveContainer(context, info.Id).map(() => true);
        return okAsync(false);
      })
      .match(
        (removed) => {
          const [next, ...rest] = delays;
          if (!removed && next !== undefined) setTimeout(() => attempt(rest), next).unref();
        },
        (error) => {
          context.logger.warn('could not remove a container whose creation timed out', {
            container: name,
            error: error.message,
          });
          const [next, ...rest] = delays;
          if (next !== undefined) setTimeout(() => attempt(rest), next).unref();
        },
      );
  };
  attempt(ABANDONED_RECHECKS_MS);
}
