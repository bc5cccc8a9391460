import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { ServerConfig } from '../config/config.js';

/** The API token: given, or generated once and kept in `$HODEI_DATA_DIR/api-token` (0600). */
export async function resolveToken(
  config: ServerConfig,
): Promise<{ token: string; file: string | undefined }> {
  if (config.apiToken !== undefined) return { token: config.apiToken, file: undefined };
  const dir = resolve(config.dataDir);
  const file = join(dir, 'api-token');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 16) {
      await chmod(file, 0o600);
      return { token: existing, file };
    }
  } catch {
    // none yet
  }
  const token = randomBytes(32).toString('base64url');
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}
