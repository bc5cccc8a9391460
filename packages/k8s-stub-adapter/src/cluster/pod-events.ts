import { ms, TERMINAL } from './api-object.js';
import type { IPod } from './cluster-types.js';
import type { Kill, PodRuntime } from './pod-runtime.js';

/** What can happen to a pod's container next: it starts, exits, is killed or is signalled. */
export type PodEvent =
  | { readonly kind: 'start' | 'exit' | 'killed'; readonly at: number }
  | { readonly kind: 'signal'; readonly at: number; readonly kill: Kill };

/** The earliest event due by `now`; at the same instant, an exit comes before a kill, etc. */
export function nextPodEvent(
  pod: IPod,
  runtime: PodRuntime,
  now: number,
  shutdownMs: number,
): PodEvent | null {
  const order: Record<PodEvent['kind'], number> = { exit: 0, killed: 1, signal: 2, start: 3 };
  const due = pendingPodEvents(pod, runtime, shutdownMs)
    .filter((e) => e.at <= now)
    .sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind]);
  return due[0] ?? null;
}

/**
 * When the kubelet next has something to do for the pod: its earliest pending event, at once
 * (-Infinity) for a finished pod whose deletion it must confirm, never (Infinity) otherwise.
 * It changes only when the pod, or what the kubelet knows of it, does.
 */
export function podWakeAt(pod: IPod, runtime: PodRuntime, shutdownMs: number): number {
  if (TERMINAL.includes(pod.status?.phase ?? ''))
    return pod.metadata?.deletionTimestamp !== undefined && !runtime.stuckTerminating
      ? -Infinity
      : Infinity;
  let at = Infinity;
  for (const e of pendingPodEvents(pod, runtime, shutdownMs)) at = Math.min(at, e.at);
  return at;
}

/** Every event the pod's container has coming, due or not; none once the pod finished. */
function pendingPodEvents(pod: IPod, runtime: PodRuntime, shutdownMs: number): PodEvent[] {
  const status = pod.status ?? {};
  if (TERMINAL.includes(status.phase ?? '')) return [];
  const m = pod.metadata ?? {};
  const events: PodEvent[] = [];
  if (runtime.startedAt !== null && runtime.run.runMs !== null)
    events.push({ kind: 'exit', at: runtime.startedAt + runtime.run.runMs });
  if (runtime.kill !== null && runtime.startedAt !== null) {
    const { exitsAfter } = killTiming(runtime, runtime.kill, shutdownMs);
    events.push({ kind: 'killed', at: runtime.kill.at + exitsAfter });
  }
  if (runtime.kill === null) {
    const deadline = pod.spec?.activeDeadlineSeconds;
    const startTime = ms(status.startTime);
    if (deadline !== undefined && startTime !== null) {
      const graceMs = (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1_000;
      events.push({
        kind: 'signal',
        at: startTime + deadline * 1_000,
        kill: { at: startTime + deadline * 1_000, reason: 'DeadlineExceeded', graceMs },
      });
    }
    const deletedAt = ms(m.deletionTimestamp);
    if (deletedAt !== null) {
      const graceMs = (m.deletionGracePeriodSeconds ?? 30) * 1_000;
      events.push({
        kind: 'signal',
        at: deletedAt,
        kill: { at: deletedAt, reason: 'Deleted', graceMs },
      });
    }
  }
  if (runtime.startedAt === null && runtime.startAt !== null)
    events.push({ kind: 'start', at: runtime.startAt });
  return events;
}

/**
 * After SIGTERM the container exits on its own (143) if it shuts down within the grace
 * period and listens; otherwise it is killed (137) when the grace period ends.
 */
export function killTiming(
  runtime: PodRuntime,
  kill: Kill,
  shutdownMs: number,
): { exitsAfter: number; exitCode: number } {
  const killedHard = runtime.ignoresSigterm || shutdownMs > kill.graceMs;
  return killedHard
    ? { exitsAfter: kill.graceMs, exitCode: 137 }
    : { exitsAfter: shutdownMs, exitCode: 143 };
}
