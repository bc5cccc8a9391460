import {
  OWNERSHIP_LABELS,
  type ProviderWatchEvent,
  type WatchSubscription,
  type WorkerId,
} from '@hodei/domain';
import type { WatchEvent } from '../cluster/cluster-types.js';
import type { ClusterScope } from './cluster-scope.js';
import { podWorkerStatus } from './map-pod-status.js';
import { POD_PREFIX, TERMINAL } from './object-fields.js';

/**
 * Pushes started, exited, unhealthy (node lost) and removed notifications from a watch on our
 * pods and Jobs. A pod removed while its container still ran is reported `removed`: the
 * worker is lost.
 */
export function watchWorkers(
  scope: ClusterScope,
  listener: (event: ProviderWatchEvent) => void,
): WatchSubscription {
  const reported = new Map<string, Set<string>>();
  const once = (uid: string, what: string): boolean => {
    const seen = reported.get(uid) ?? new Set<string>();
    reported.set(uid, seen);
    if (seen.has(what)) return false;
    seen.add(what);
    return true;
  };
  const onEvent = (event: WatchEvent): void => {
    const object = event.object;
    if (!scope.owns(object)) return;
    const workerId = (object.metadata?.labels?.[OWNERSHIP_LABELS.workerId] ?? '') as WorkerId;
    if (event.kind === 'Job') {
      if (event.type === 'DELETED')
        listener({ type: 'removed', workerId, resourceId: object.metadata?.name ?? '' });
      return;
    }
    const pod = event.object;
    const uid = pod.metadata?.uid ?? '';
    const owner = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
    const resourceId =
      owner?.kind === 'Job' ? owner.name : `${POD_PREFIX}${pod.metadata?.name ?? ''}`;
    const phase = pod.status?.phase ?? 'Pending';
    if (event.type === 'DELETED') {
      reported.delete(uid);
      if (owner === undefined || !TERMINAL.includes(phase))
        listener({ type: 'removed', workerId, resourceId });
      return;
    }
    if (phase === 'Running' && once(uid, 'started'))
      listener({ type: 'started', workerId, resourceId });
    if (phase === 'Unknown' && once(uid, 'unhealthy'))
      listener({ type: 'health', workerId, resourceId, health: 'unhealthy' });
    if (TERMINAL.includes(phase) && once(uid, 'exited')) {
      const status = podWorkerStatus(pod);
      listener({
        type: 'exited',
        workerId,
        resourceId,
        exitCode: status.state === 'exited' ? status.exitCode : null,
        oomKilled: status.state === 'exited' && status.oomKilled,
        ...(status.state === 'exited' && status.finishedAt !== null
          ? { finishedAt: status.finishedAt }
          : {}),
      });
    }
  };
  const subscriptions = (['Pod', 'Job'] as const).flatMap((kind) => {
    const sub = scope.cluster.watch(
      kind,
      { namespace: scope.namespace, labelSelector: scope.selector },
      onEvent,
    );
    return sub.isOk() ? [sub.value] : [];
  });
  return { close: () => subscriptions.forEach((s) => s.close()) };
}
