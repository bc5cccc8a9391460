import { imageReferenceProblem, normalizeImageReference } from './image-reference.js';

const PATTERN = /^[A-Za-z0-9._:@/*?-]+$/;

/** Why `pattern` is not an image pattern, or `undefined` when it is. */
export function imagePatternProblem(pattern: string): string | undefined {
  return PATTERN.test(pattern)
    ? undefined
    : `${JSON.stringify(pattern)} is not an image pattern (a reference with * and ** globs)`;
}

/** `*` and `?` stay within one path segment, `**` crosses them. */
function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i += 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * Whether `reference` may be pulled under `patterns` (undefined: no rule, anything). A
 * pattern matches the reference as written or normalised, with or without its tag, so
 * `alpine`, `docker.io/library/*` and `registry.example.com/team/**` all mean what they say.
 */
export function isImageAllowed(
  patterns: readonly string[] | undefined,
  reference: string,
): boolean {
  if (patterns === undefined) return true;
  if (imageReferenceProblem(reference) !== undefined) return false;
  const normalized = normalizeImageReference(reference);
  const written = reference.split('@')[0] ?? reference;
  const writtenName = written.replace(/:[^:/]*$/, '');
  const candidates = [reference, writtenName, normalized.full, normalized.name];
  return patterns.some((p) => {
    const glob = globToRegExp(p);
    return candidates.some((candidate) => glob.test(candidate));
  });
}

/** The pattern that allows every image of `reference`'s registry. */
export const registryPattern = (reference: string): string =>
  `${normalizeImageReference(reference).registry}/**`;
