import { readFile } from 'node:fs/promises';
import { fromCloudEvent, type LifecycleEvent } from '@hodei/domain';
import { EVENT_KEY } from '../pino-event-publisher.js';

/** One parsed log line: pino's fields plus, on event lines, the envelope under `event`. */
export type LogLine = Readonly<Record<string, unknown>>;

/** Parses JSON lines; throws on a line that is not a JSON object (test helper). */
export function parseLogLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const parsed: unknown = JSON.parse(line);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error(`log line ${index + 1} is not a JSON object: ${line}`);
      return parsed as LogLine;
    });
}

/** The lifecycle events of a log, oldest first; lines without an envelope are skipped. */
export function parseEventLog(text: string): LifecycleEvent[] {
  return parseLogLines(text)
    .filter((line) => line[EVENT_KEY] !== undefined)
    .map((line) =>
      fromCloudEvent(line[EVENT_KEY]).match(
        (event) => event,
        (error) => {
          throw new Error(`not a lifecycle CloudEvent: ${error.message}`);
        },
      ),
    );
}

export async function readLogLines(path: string): Promise<LogLine[]> {
  return parseLogLines(await readFile(path, 'utf8'));
}

export async function readEventLog(path: string): Promise<LifecycleEvent[]> {
  return parseEventLog(await readFile(path, 'utf8'));
}
