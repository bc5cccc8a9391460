import type { IPod } from './cluster-types.js';

export type ContainerState = NonNullable<
  NonNullable<NonNullable<IPod['status']>['containerStatuses']>[number]['state']
>;

/** Sets the status of the pod's one container (a worker pod runs a single container). */
export function setContainer(pod: IPod, state: ContainerState, ready = false): void {
  const container = pod.spec?.containers[0];
  (pod.status ??= {}).containerStatuses = [
    {
      name: container?.name ?? 'main',
      image: container?.image ?? '',
      imageID: '',
      ready,
      restartCount: 0,
      started: state.running !== undefined,
      state,
    },
  ];
}
