import 'reflect-metadata';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogFormat } from '../config/observability-config.js';
import { logStream } from './register-core.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** What one line logged through `logStream(format, file)` looks like in the file. */
const written = async (format: LogFormat): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'hodei-log-stream-'));
  dirs.push(dir);
  const file = join(dir, 'server.log');
  const logger = pino({ base: { service: 'hodei' } }, logStream(format, file));
  logger.warn({ provider: 'docker', status: 503 }, 'provider call failed');
  return readFile(file, 'utf8');
};

describe('the server log format', () => {
  it('writes JSON lines with HODEI_LOG_FORMAT=json', async () => {
    const line = JSON.parse(await written('json')) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 40, msg: 'provider call failed', provider: 'docker' });
  });

  it('writes pino-pretty lines with HODEI_LOG_FORMAT=pretty, at once and without colour in a file', async () => {
    const text = await written('pretty');
    expect(text).toMatch(/^\[[^\]]+\] WARN: provider call failed\n {4}service: "hodei"\n/);
    expect(text).toContain('    status: 503');
    expect(text).not.toContain('\u001b[');
  });

  it('writes JSON by default when the destination is not a terminal', async () => {
    const text = await written('auto');
    expect(() => JSON.parse(text) as unknown).not.toThrow();
  });
});
