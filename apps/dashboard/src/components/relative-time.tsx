import { useEffect, useRef } from 'preact/hooks';
import { formatRelative, formatTime } from '../lib/format';

/** One timer for every relative time on the page. */
const tickers = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function onTick(listener: () => void): () => void {
  tickers.add(listener);
  timer ??= setInterval(() => {
    for (const tick of tickers) tick();
  }, 1000);
  return () => {
    tickers.delete(listener);
    if (tickers.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/**
 * `4m ago`, kept current by rewriting its own text each second: the ticking never re-renders
 * the table it sits in.
 */
export function RelativeTime({
  iso,
  prefix = '',
}: {
  readonly iso: string;
  readonly prefix?: string;
}) {
  const ref = useRef<HTMLTimeElement>(null);
  useEffect(
    () =>
      onTick(() => {
        if (ref.current !== null)
          ref.current.textContent = `${prefix}${formatRelative(iso, Date.now())}`;
      }),
    [iso, prefix],
  );
  return (
    <time ref={ref} dateTime={iso} title={formatTime(iso)}>
      {`${prefix}${formatRelative(iso, Date.now())}`}
    </time>
  );
}
