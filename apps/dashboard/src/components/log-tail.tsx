import { useEffect, useRef, useState } from 'preact/hooks';
import type { HodeiApi } from '../api/hodei-api';
import { readLogLines } from '../api/log-stream';
import { LogBuffer } from '../lib/log-buffer';

const TAIL = 200;
/** The shown log is rewritten at most this often while lines stream in. */
const BATCH_MS = 200;

type Mode = 'idle' | 'loading' | 'following';

/** The log shown: bounded by characters and lines, rewritten in batches, not once per chunk. */
function useLogBuffer() {
  const [text, setText] = useState('');
  const buffer = useRef(new LogBuffer());
  const batch = useRef<ReturnType<typeof setTimeout> | null>(null);
  const show = () => {
    if (batch.current !== null) clearTimeout(batch.current);
    batch.current = null;
    setText(buffer.current.text());
  };
  const append = (more: readonly string[]) => {
    buffer.current.push(more);
    batch.current ??= setTimeout(show, BATCH_MS);
  };
  return { text, buffer, batch, show, append };
}

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
  const { text, buffer, batch, show, append } = useLogBuffer();
  const [mode, setMode] = useState<Mode>('idle');
  const [note, setNote] = useState<string>('');
  const controller = useRef<AbortController | null>(null);

  const run = async (follow: boolean) => {
    controller.current?.abort();
    const abort = new AbortController();
    controller.current = abort;
    setMode(follow ? 'following' : 'loading');
    setNote(follow ? 'Following the log…' : 'Loading the log…');
    buffer.current.clear();
    show();
    try {
      const r = await readLogLines(api.logsUrl(workerId, TAIL, follow), abort.signal, (more) => {
        if (controller.current === abort) append(more);
      });
      if (controller.current === abort) show();
      // The session ended (signed out elsewhere, expired, a restart): back to the sign-in.
      if (r.status === 401) api.client.signedOut();
      setNote(
        r.status === 200
          ? follow
            ? 'The log ended (the worker stopped).'
            : `The last ${TAIL} lines.`
          : `No log: ${r.message ?? ''} (${r.status}).`,
      );
    } catch (cause) {
      if (controller.current === abort) show();
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
    return () => {
      controller.current?.abort();
      if (batch.current !== null) clearTimeout(batch.current);
      batch.current = null;
    };
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
        {text}
      </pre>
    </section>
  );
}
