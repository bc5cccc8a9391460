/**
 * One time limit for a whole command, set when it starts: every request it makes gets the
 * time that is left. `--timeout 0` (or none) is no limit.
 */
export interface Deadline {
  /** The limit as given, for messages; `undefined` when there is none. */
  readonly timeoutMs: number | undefined;
  /** Milliseconds left (`Infinity` without a limit, 0 once past it). */
  remaining(): number;
  expired(): boolean;
  /** Aborts at the deadline; `undefined` without a limit. */
  signal(): AbortSignal | undefined;
}

export function deadlineOf(timeoutMs: number | undefined, now: () => number = Date.now): Deadline {
  if (timeoutMs === undefined || timeoutMs <= 0) {
    return {
      timeoutMs: undefined,
      remaining: () => Infinity,
      expired: () => false,
      signal: () => undefined,
    };
  }
  const at = now() + timeoutMs;
  const remaining = () => Math.max(0, at - now());
  return {
    timeoutMs,
    remaining,
    expired: () => remaining() === 0,
    // AbortSignal.timeout(0) aborts on the next tick: a request past the deadline never goes.
    signal: () => AbortSignal.timeout(remaining()),
  };
}

/** `signal`, also aborted at the deadline. */
export const withDeadline = (signal: AbortSignal, deadline: Deadline): AbortSignal => {
  const timeout = deadline.signal();
  return timeout === undefined ? signal : AbortSignal.any([signal, timeout]);
};
