/** The longest a batch waits: a hidden tab runs no animation frame, timers still run. */
const FALLBACK_MS = 250;

/**
 * Runs `run` once, at the next animation frame or after 250 ms, whichever comes first: live
 * events are applied in batches, at most once a frame, and still when the tab is hidden.
 * Returns a cancel.
 */
export function onNextFrame(run: () => void): () => void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    run();
  };
  const frame = requestAnimationFrame(once);
  const timer = setTimeout(once, FALLBACK_MS);
  return () => {
    done = true;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
}

/**
 * Collects items and hands them over in one batch per frame (see `onNextFrame`).
 */
export class FrameBatcher<T> {
  private items: T[] = [];
  private cancel: (() => void) | null = null;

  constructor(private readonly flush: (items: readonly T[]) => void) {}

  push(item: T): void {
    this.items.push(item);
    this.cancel ??= onNextFrame(() => {
      this.cancel = null;
      const items = this.items;
      this.items = [];
      this.flush(items);
    });
  }

  dispose(): void {
    this.cancel?.();
    this.cancel = null;
    this.items = [];
  }
}
