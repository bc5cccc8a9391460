import { ResultAsync, type Result } from 'neverthrow';

/**
 * Runs `start` unless an operation for `key` is already in flight, in which case the caller
 * joins that one. The key is forgotten once the operation settles, then `settled` sees the
 * result.
 */
export function shareInFlight<T, E>(
  inFlight: Map<string, ResultAsync<T, E>>,
  key: string,
  start: () => ResultAsync<T, E>,
  settled: (result: Result<T, E>) => void = () => undefined,
): ResultAsync<T, E> {
  const running = inFlight.get(key);
  if (running !== undefined) return running;
  const started = start();
  const shared = new ResultAsync(
    (async () => {
      const result = await started;
      inFlight.delete(key);
      settled(result);
      return result;
    })(),
  );
  inFlight.set(key, shared);
  return shared;
}
