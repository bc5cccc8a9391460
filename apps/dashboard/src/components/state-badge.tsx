import type { WorkerState } from '../api/types';

/** A worker's state, as a word (colour only repeats it). */
export function StateBadge({ state }: { readonly state: WorkerState }) {
  return <span class={`badge state-${state}`}>{state}</span>;
}
