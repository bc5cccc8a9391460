import { createParser, type EventSourceMessage } from 'eventsource-parser';

export type { EventSourceMessage } from 'eventsource-parser';

/**
 * The messages of a Server-Sent Events body, as they arrive (comments dropped); `onRetry`
 * is told the server's `retry:` field, the reconnection delay it asks for.
 */
export async function* sseMessages(
  body: AsyncIterable<Uint8Array>,
  onRetry?: (ms: number) => void,
): AsyncGenerator<EventSourceMessage> {
  const decoder = new TextDecoder();
  let parsed: EventSourceMessage[] = [];
  const parser = createParser({
    onEvent: (message) => parsed.push(message),
    ...(onRetry === undefined ? {} : { onRetry }),
  });
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    const ready = parsed;
    parsed = [];
    yield* ready;
  }
}
