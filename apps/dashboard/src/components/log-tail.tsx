import { useEffect, useRef, useState } from 'preact/hooks';
import type { HodeiApi } from '../api/hodei-api';
import { readLogLines } from '../api/log-stream';

const TAIL = 200;
/** Lines kept on screen while following; the oldest go first. */
const MAX_LINES = 2000;

type Mode = 'idle' | 'loading' | 'following';

/** The last lines of the worker's output, and on demand the lines as they come. */
export function LogTail({
  api,
  workerId,
  available,
}: {
  readonly api: HodeiApi;
  readonly workerId: string;
  readonly available: boolean;
}) {
  const [lines, setLines] = useState<readonly string[]>([]);
  const [mode, setMode] = useState<Mode>('idle');
  const [note, setNote] = useState<string>('');
  const controller = useRef<AbortController | null>(null);

  const run = async (follow: boolean) => {
    controller.current?.abort();
    const abort = new AbortController();
    controller.current = abort;
    setMode(follow ? 'following' : 'loading');
    setNote(follow ? 'Following the log…' : 'Loading the log…');
    setLines([]);
    try {
      const r = await readLogLines(api.logsUrl(workerId, TAIL, follow), abort.signal, (more) =>
        setLines((l) => {
          const next = [...l, ...more];
          return next.length > MAX_LINES ? next.slice(next.length - MAX_LINES) : next;
        }),
      );
      setNote(
        r.status === 200
          ? follow
            ? 'The log ended (the worker stopped).'
            : `The last ${TAIL} lines.`
          : `No log: ${r.message ?? ''} (${r.status}).`,
      );
    } catch (cause) {
      setNote(
        abort.signal.aborted
          ? 'Stopped following.'
          : `The log could not be read: ${(cause as Error).message}`,
      );
    } finally {
      if (controller.current === abort) {
        controller.current = null;
        setMode('idle');
      }
    }
  };

  useEffect(() => {
    if (available) void run(false);
    return () => controller.current?.abort();
  }, [workerId, available]);

  return (
    <section class="panel" aria-labelledby="logs-title">
      <h2 id="logs-title">Log tail</h2>
      <div class="toolbar">
        {mode === 'following' ? (
          <button type="button" onClick={() => controller.current?.abort()}>
            Stop following
          </button>
        ) : (
          <button type="button" disabled={!available} onClick={() => void run(true)}>
            Follow
          </button>
        )}
        <button
          type="button"
          disabled={!available || mode !== 'idle'}
          onClick={() => void run(false)}
        >
          Reload the tail
        </button>
        <span class="muted" role="status">
          {available ? note : 'The worker is gone: its log went with it.'}
        </span>
      </div>
      <pre class="log" tabIndex={0} aria-label={`Log of ${workerId}`}>
        {lines.join('\n')}
      </pre>
    </section>
  );
}
