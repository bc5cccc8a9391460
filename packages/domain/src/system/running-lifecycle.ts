import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import type { GarbageCollectionStats, ReconcileStats } from '../events/gc-stats.js';
import type { LifecycleError } from '../lifecycle/lifecycle.errors.js';
import type { LifecycleManager, RecoveryReport } from '../lifecycle/lifecycle-manager.js';
import type { Logger } from '../ports/logger.port.js';
import type { ManagedLifecycle } from '../provider/wire-lifecycle.js';
import { DeadlinePassTimer } from './deadline-pass-timer.js';

export interface LifecyclePassOptions {
  /**
   * The longest wait between the end of one deadline pass and the start of the next; default
   * 30 s. The pass also runs sooner, at the next due time (a warning, a deadline), at most
   * once a second.
   */
  readonly gcIntervalMs?: number;
  /** Between the end of one reconciliation and the start of the next; default 30 s. */
  readonly reconcileIntervalMs?: number;
  /** Re-adopt the provider's workers before the first pass (default true): see `recover()`. */
  readonly recover?: boolean;
  /** Where a failed pass is reported; silent by default (each pass also returns its error). */
  readonly logger?: Logger;
  readonly onGc?: (stats: GarbageCollectionStats) => void;
  readonly onReconcile?: (stats: ReconcileStats) => void;
}

export type LifecycleStartError =
  LifecycleError | { readonly type: 'LifecycleAlreadyStarted'; readonly message: string };

/**
 * A managed lifecycle that runs its own passes: what a program using the libraries needs
 * beside the server (which schedules the passes itself, under its provider locks).
 */
export interface RunningLifecycle<M extends LifecycleManager = LifecycleManager>
  extends Omit<ManagedLifecycle<M>, 'close'>, AsyncDisposable {
  /**
   * Recovers (unless `recover: false`), then runs the deadline pass and the reconciliation
   * on their intervals until `close()`. A pass's failure is logged and the next one runs.
   */
  start(
    options?: LifecyclePassOptions,
  ): ResultAsync<RecoveryReport | undefined, LifecycleStartError>;
  /**
   * Stops the passes and waits for the running ones, waits for the stops they started, and
   * stops listening to the provider. Workers keep running; the provider is the caller's to
   * close.
   */
  close(): Promise<void>;
}

const DEFAULT_INTERVAL_MS = 30_000;

/** Gives a wired lifecycle `start()`, `close()` and `await using`. */
export function runnable<M extends LifecycleManager>(
  lifecycle: ManagedLifecycle<M>,
): RunningLifecycle<M> {
  const passes = new PassTimers();
  let started = false;
  let closed = false;

  const schedulePasses = (options: LifecyclePassOptions) => {
    const { manager } = lifecycle;
    passes.deadlines(
      manager,
      options.gcIntervalMs ?? DEFAULT_INTERVAL_MS,
      async () => {
        const stats = await manager.runGcCycle();
        if (stats.isOk()) options.onGc?.(stats.value);
        else options.logger?.warn('deadline pass failed', { error: stats.error.type });
      },
      options.logger,
    );
    passes.every(
      options.reconcileIntervalMs ?? DEFAULT_INTERVAL_MS,
      async () => {
        const stats = await manager.reconcile();
        if (stats.isOk()) options.onReconcile?.(stats.value);
        else options.logger?.warn('reconciliation failed', { error: stats.error.type });
      },
      options.logger,
    );
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await passes.stop();
    await lifecycle.manager.close();
    lifecycle.close();
    await lifecycle.manager.whenIdle();
  };

  return {
    manager: lifecycle.manager,
    provider: lifecycle.provider,
    start: (options = {}) => {
      if (started || closed) {
        return errAsync({
          type: 'LifecycleAlreadyStarted' as const,
          message: closed ? 'the lifecycle is closed' : 'start() was called already',
        });
      }
      started = true;
      const recovered: ResultAsync<RecoveryReport | undefined, LifecycleError> =
        options.recover === false ? okAsync(undefined) : lifecycle.manager.recover();
      const starting = recovered
        .map((report) => {
          schedulePasses(options);
          return report;
        })
        .mapErr((error) => {
          started = false; // a recovery that failed may be retried with another start()
          return error;
        });
      // close() waits for a recovery under way, as for a pass.
      const settled = Promise.resolve(starting).then(
        () => undefined,
        () => undefined,
      );
      passes.track(settled);
      return starting;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Passes on intervals, each timed from the end of the last; stop() waits for those running. */
class PassTimers {
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #deadlineTimers: DeadlinePassTimer[] = [];
  readonly #running = new Set<Promise<unknown>>();
  #stopped = false;

  every(intervalMs: number, pass: () => Promise<void>, logger?: Logger): void {
    const schedule = () => {
      if (this.#stopped) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        const run = guarded(pass, logger);
        this.track(run);
        void run.then(schedule, schedule);
      }, intervalMs);
      this.#timers.add(timer);
    };
    schedule();
  }

  /** The deadline pass: on its interval, and sooner at the manager's next due time. */
  deadlines(
    manager: LifecycleManager,
    intervalMs: number,
    pass: () => Promise<void>,
    logger?: Logger,
  ): void {
    if (this.#stopped) return;
    const timer = new DeadlinePassTimer({
      manager,
      intervalMs,
      pass: () => guarded(pass, logger).then(() => true),
      track: (run) => this.track(run),
    });
    this.#deadlineTimers.push(timer);
    timer.start();
  }

  /** Work stop() waits for (a pass, the recovery of start()); it must not reject. */
  track(work: Promise<unknown>): void {
    this.#running.add(work);
    // Not `finally`: that is a second promise, rejected (and unhandled) if `work` rejects.
    const done = (): void => {
      this.#running.delete(work);
    };
    work.then(done, done);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#deadlineTimers) t.stop();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#running]);
  }
}

/**
 * A pass, its logger or a caller's callback that throws must not become an unhandled
 * rejection of the program using the library.
 */
function guarded(pass: () => Promise<void>, logger: Logger | undefined): Promise<void> {
  return pass().catch((cause: unknown) => {
    try {
      logger?.error('a lifecycle pass threw', { error: String(cause) });
    } catch {
      // a logger that throws: nothing left to tell
    }
  });
}
