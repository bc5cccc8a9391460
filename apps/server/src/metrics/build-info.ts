import { createRequire } from 'node:module';

/** This server's version, from its package.json (`src/` and `dist/` sit at the same depth). */
export const SERVER_VERSION: string = (() => {
  const manifest: unknown = createRequire(import.meta.url)('../../package.json');
  const version = (manifest as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
})();

/** The Node.js version without its `v`, as `hodei_build_info` reports it. */
export const NODE_VERSION = process.versions.node;
