/**
 * Who says ready and busy (SPEC §3.2). `job`: the container's command is the job; running
 * means ready and at once busy. `agent`: a long-lived agent; the dispatcher reports busy and
 * ready, and the idle timeout applies while it is ready.
 */
export const WORKER_MODES = ['job', 'agent'] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

/** For agents: ready when the container runs, or only when the agent says so. */
export const READINESS_MODES = ['container', 'external'] as const;
export type Readiness = (typeof READINESS_MODES)[number];

export const isWorkerMode = (value: unknown): value is WorkerMode =>
  (WORKER_MODES as readonly unknown[]).includes(value);
