import { LineSplitter } from '../lib/log-buffer';

/**
 * Reads a worker's log as lines, following it through a streaming fetch until `signal` aborts
 * or the server ends the response (the worker stopped). A partial line is bounded.
 */
export async function readLogLines(
  url: string,
  signal: AbortSignal,
  onLines: (lines: readonly string[]) => void,
): Promise<{ readonly status: number; readonly message?: string }> {
  const response = await fetch(url, { credentials: 'same-origin', signal });
  if (!response.ok || response.body === null) {
    const text = await response.text();
    let message = response.statusText;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // not JSON
    }
    return { status: response.status, message };
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const splitter = new LineSplitter();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const lines = splitter.feed(value);
    if (lines.length > 0) onLines(lines);
  }
  const rest = splitter.end();
  if (rest.length > 0) onLines(rest);
  return { status: response.status };
}
