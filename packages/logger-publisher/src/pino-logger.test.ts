import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@hodei/domain';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createPinoLogger } from './pino-logger.js';
import { MemoryDestination, parseLogLines, readLogLines } from './testing/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('createPinoLogger', () => {
  it('implements the domain Logger port: message and fields on one line per call', () => {
    const destination = new MemoryDestination();
    const logger: Logger = createPinoLogger({ destination, level: 'debug' })._unsafeUnwrap();
    logger.debug('gc pass', { workersCleaned: 2 });
    logger.info('worker created', { workerId: 'w-1' });
    logger.warn('orphan found');
    logger.error('provider down', { error: new Error('ECONNREFUSED') });
    const lines = parseLogLines(destination.text());
    expect(lines.map((l) => [l['level'], l['msg']])).toEqual([
      [pino.levels.values['debug'], 'gc pass'],
      [pino.levels.values['info'], 'worker created'],
      [pino.levels.values['warn'], 'orphan found'],
      [pino.levels.values['error'], 'provider down'],
    ]);
    expect(lines[0]).toMatchObject({ workersCleaned: 2 });
    expect(lines[1]).toMatchObject({ workerId: 'w-1' });
    expect(lines[3]).toMatchObject({ error: { message: 'ECONNREFUSED', type: 'Error' } });
  });

  it('writes an error nested in the fields with its message, cause and own fields, not as {}', () => {
    const destination = new MemoryDestination();
    // The server's case: its own pino instance, which knows no serializer for nested keys.
    const logger = createPinoLogger({ logger: pino({}, destination) })._unsafeUnwrap();
    const cause = Object.assign(
      new Error('(HTTP code 500) server error - could not find bridge docker0', {
        cause: new Error('bridge missing'),
      }),
      { statusCode: 500 },
    );
    logger.error('provider call failed', {
      error: { type: 'ProviderFailure', cause },
      attempts: [cause],
    });
    const line = parseLogLines(destination.text())[0]!;
    expect(line).toMatchObject({
      error: {
        type: 'ProviderFailure',
        cause: {
          type: 'Error',
          message: expect.stringContaining('could not find bridge docker0: bridge missing'),
          statusCode: 500,
          stack: expect.stringContaining('caused by'),
        },
      },
      attempts: [{ statusCode: 500 }],
    });
  });

  it('drops lines below its level', () => {
    const destination = new MemoryDestination();
    const logger = createPinoLogger({ destination, level: 'warn' })._unsafeUnwrap();
    logger.debug('a');
    logger.info('b');
    logger.warn('c');
    expect(parseLogLines(destination.text()).map((l) => l['msg'])).toEqual(['c']);
  });

  it('redacts secret-looking keys at any depth of the fields', () => {
    const destination = new MemoryDestination();
    const logger = createPinoLogger({ destination })._unsafeUnwrap();
    logger.info('config', { registry: { authToken: 'abc123', url: 'r.example' } });
    expect(destination.text()).not.toContain('abc123');
    expect(parseLogLines(destination.text())[0]).toMatchObject({
      registry: { authToken: '[Redacted]', url: 'r.example' },
    });
  });

  it('never throws into the caller when the destination fails', async () => {
    const throwing = createPinoLogger({
      destination: {
        write: () => {
          throw new Error('broken pipe');
        },
      },
    })._unsafeUnwrap();
    expect(() => throwing.info('x')).not.toThrow();
    const full = createPinoLogger({ destination: '/dev/full' })._unsafeUnwrap();
    expect(() => full.error('y')).not.toThrow();
    expect((await full.close()).isErr()).toBe(true);
  });

  it('closes a file it opened and ignores calls after close', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hodei-pino-logger-'));
    dirs.push(dir);
    const path = join(dir, 'server.log');
    const logger = createPinoLogger({ destination: path })._unsafeUnwrap();
    logger.info('before');
    expect((await logger.close()).isOk()).toBe(true);
    logger.info('after');
    expect((await readLogLines(path)).map((l) => l['msg'])).toEqual(['before']);
    const fds = await readdir('/proc/self/fd');
    const targets = await Promise.all(
      fds.map((fd) => readlink(join('/proc/self/fd', fd)).catch(() => '')),
    );
    expect(targets).not.toContain(path);
  });

  it('wraps an existing pino instance', () => {
    const destination = new MemoryDestination();
    const shared = pino({ level: 'info' }, destination);
    const logger = createPinoLogger({ logger: shared })._unsafeUnwrap();
    logger.info('through the shared instance');
    expect(logger.pino).toBe(shared);
    expect(parseLogLines(destination.text())[0]).toMatchObject({
      msg: 'through the shared instance',
    });
  });

  it('refuses an unknown level with LoggerSetupFailed', () => {
    const result = createPinoLogger({
      destination: new MemoryDestination(),
      level: 'loud' as 'info',
    });
    expect(result.isErr() && result.error.type).toBe('LoggerSetupFailed');
  });
});
