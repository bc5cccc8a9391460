import { InvalidArgumentError } from 'commander';
import { err, ok, type Result } from 'neverthrow';

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/**
 * A duration in milliseconds from "90" (seconds), "90s", "5m", "1h30m", "2d" or "500ms".
 */
export function parseDuration(text: string): Result<number, string> {
  const trimmed = text.trim();
  const problem = `"${text}" is not a duration: give seconds (90) or units (90s, 5m, 1h30m, 2d)`;
  if (/^\d+$/.test(trimmed)) return ok(Number(trimmed) * 1000);
  if (trimmed === '') return err(problem);
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(trimmed); match !== null; match = PART.exec(trimmed)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed = PART.lastIndex;
  }
  if (consumed !== trimmed.length || !Number.isFinite(total)) return err(problem);
  return ok(Math.round(total));
}

/** A commander argument parser: a duration in milliseconds, or a usage error. */
export function durationArgument(value: string): number {
  const parsed = parseDuration(value);
  if (parsed.isErr()) throw new InvalidArgumentError(parsed.error);
  return parsed.value;
}

/** A commander argument parser: a duration in whole seconds, as the API's policy takes. */
export function secondsArgument(value: string): number {
  const ms = durationArgument(value);
  if (ms % 1000 !== 0)
    throw new InvalidArgumentError(`"${value}" is not a whole number of seconds`);
  return ms / 1000;
}
