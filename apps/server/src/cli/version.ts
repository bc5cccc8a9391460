import { readFileSync } from 'node:fs';

/** The `@hodei/server` package's version (src/ and dist/ both sit beside its package.json). */
export function serverVersion(): string {
  try {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
