import { spawnSync } from 'node:child_process';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import {
  toCloudEvent,
  type GarbageCollectionCompleted,
  type LifecycleEvent,
  type LifecycleEventType,
} from '@hodei/domain';
import { describePublisherContract, sampleEvents } from '@hodei/domain/testing';
import { CloudEvent, HTTP } from 'cloudevents';
import { pino } from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_EVENT_LEVELS, type EventLogLevel } from './event-levels.js';
import { PinoEventPublisher, type PinoEventPublisherOptions } from './pino-event-publisher.js';
import { MemoryDestination, parseLogLines, readEventLog, readLogLines } from './testing/index.js';

const dirs: string[] = [];
const tempLog = async (name = 'events.log'): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'hodei-logger-publisher-'));
  dirs.push(dir);
  return join(dir, name);
};
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** How many descriptors of this process point at `path` (Linux). */
const openFds = async (path: string): Promise<number> => {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(join('/proc/self/fd', fd)).catch(() => '');
    if (target === path) count += 1;
  }
  return count;
};

const create = (options: PinoEventPublisherOptions): PinoEventPublisher =>
  PinoEventPublisher.create(options)._unsafeUnwrap();

const levelNumber = (level: EventLogLevel): number => pino.levels.values[level]!;

const envelopeOf = (line: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  line['event'] as Record<string, unknown>;

/** Lines written to a memory destination, by event type. */
const linesByType = (destination: MemoryDestination) =>
  new Map(parseLogLines(destination.text()).map((line) => [line['msg'] as string, line]));

describePublisherContract('PinoEventPublisher on a file', async () => {
  const path = await tempLog();
  // debug: the lowest level any event is written at, so every event reaches the file.
  const publisher = create({ destination: path, level: 'debug' });
  return {
    publisher,
    read: () => readEventLog(path),
    teardown: async () => {
      await publisher.close();
    },
  };
});

describe('PinoEventPublisher output', () => {
  it('writes one JSON line per event whose envelope is a valid CloudEvents 1.0 event', async () => {
    const path = await tempLog();
    const publisher = create({ destination: path, level: 'debug' });
    const events = sampleEvents('p-ce', 'w-ce');
    expect((await publisher.publishBatch(events)).isOk()).toBe(true);
    expect((await publisher.close()).isOk()).toBe(true);

    const text = await readFile(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = parseLogLines(text);
    expect(lines).toHaveLength(events.length);
    for (const [index, line] of lines.entries()) {
      const envelope = envelopeOf(line);
      expect(() => new CloudEvent(envelope).validate()).not.toThrow();
      // The structured-mode JSON format, as an HTTP receiver would read the envelope.
      const received = HTTP.toEvent({
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(envelope),
      });
      expect(Array.isArray(received)).toBe(false);
      expect((received as CloudEvent<unknown>).validate()).toBe(true);
      expect(envelope).toEqual(toCloudEvent(events[index]!));
      expect(line['msg']).toBe(events[index]!.type);
    }
  });

  it('maps the event to the SPEC §3.6 envelope: id, prefixed type, source, subject, extensions', async () => {
    const destination = new MemoryDestination();
    const publisher = create({ destination });
    const created = sampleEvents('p-env', 'w-env')[0]!;
    await publisher.publish(created);
    const envelope = envelopeOf(parseLogLines(destination.text())[0]!);
    expect(envelope).toMatchObject({
      specversion: '1.0',
      id: created.eventId,
      type: 'io.hodei.lifecycle.WorkerEphemeralCreated',
      source: '/hodei/providers/p-env',
      subject: 'w-env',
      time: created.occurredAt,
      datacontenttype: 'application/json',
      correlationid: created.correlationId,
      actor: 'api',
      data: { mode: 'job', image: 'hodei/worker:0.1.0', resourceId: 'r-1' },
    });
  });

  it('writes each type at its level: info for create, debug for ready, warn for orphans and lost workers', async () => {
    const destination = new MemoryDestination();
    const publisher = create({ destination, level: 'trace' });
    await publisher.publishBatch(sampleEvents());
    const byType = linesByType(destination);
    const levelOf = (type: LifecycleEventType) => byType.get(type)?.['level'];

    expect(levelOf('WorkerEphemeralCreated')).toBe(levelNumber('info'));
    expect(levelOf('WorkerEphemeralReady')).toBe(levelNumber('debug'));
    expect(levelOf('OrphanWorkerDetected')).toBe(levelNumber('warn'));
    expect(levelOf('WorkerLost')).toBe(levelNumber('warn'));
    expect(levelOf('WorkerEphemeralFailed')).toBe(levelNumber('error'));
    for (const [type, level] of Object.entries(DEFAULT_EVENT_LEVELS)) {
      expect(levelOf(type as LifecycleEventType), type).toBe(levelNumber(level));
    }
  });

  it('raises a garbage collection pass that reported errors to warn', async () => {
    const destination = new MemoryDestination();
    const publisher = create({ destination, level: 'debug' });
    const gc = sampleEvents().find(
      (e): e is GarbageCollectionCompleted => e.type === 'GarbageCollectionCompleted',
    )!;
    const failing: GarbageCollectionCompleted = { ...gc, eventId: `${gc.eventId}-b`, errors: 2 };
    await publisher.publishBatch([gc, failing]);
    expect(parseLogLines(destination.text()).map((line) => line['level'])).toEqual([
      levelNumber('debug'),
      levelNumber('warn'),
    ]);
  });

  it('applies per-type level overrides', async () => {
    const destination = new MemoryDestination();
    const publisher = create({
      destination,
      level: 'debug',
      levels: { WorkerEphemeralReady: 'info', WorkerLost: 'error' },
    });
    await publisher.publishBatch(sampleEvents());
    const byType = linesByType(destination);
    expect(byType.get('WorkerEphemeralReady')?.['level']).toBe(levelNumber('info'));
    expect(byType.get('WorkerLost')?.['level']).toBe(levelNumber('error'));
    expect(byType.get('WorkerEphemeralCreated')?.['level']).toBe(levelNumber('info'));
  });

  it('drops events below the configured level and still reports success for them', async () => {
    const destination = new MemoryDestination();
    const publisher = create({ destination, level: 'warn' });
    const events = sampleEvents();
    for (const event of events) expect((await publisher.publish(event)).isOk()).toBe(true);
    expect(parseLogLines(destination.text()).map((line) => line['msg'])).toEqual([
      'WorkerEphemeralFailed',
      'OrphanWorkerDetected',
      'WorkerLost',
    ]);
  });

  it('writes only info and above by default, so ready and busy stay out of the log', async () => {
    const destination = new MemoryDestination();
    const publisher = create({ destination });
    await publisher.publishBatch(sampleEvents());
    const types = parseLogLines(destination.text()).map((line) => line['msg']);
    expect(types).toContain('WorkerEphemeralCreated');
    expect(types).not.toContain('WorkerEphemeralReady');
    expect(types).not.toContain('WorkerEphemeralBusy');
    expect(types).not.toContain('GarbageCollectionCompleted');
  });

  it('writes nothing at level silent', async () => {
    const destination = new MemoryDestination();
    const publisher = create({ destination, level: 'silent' });
    expect((await publisher.publishBatch(sampleEvents())).isOk()).toBe(true);
    expect(destination.text()).toBe('');
  });

  it('writes to stdout, synchronously, at level info when given no options', () => {
    const publisher = create({});
    const stream = Reflect.get(publisher.logger, pino.symbols.streamSym) as {
      fd: number;
      sync: boolean;
    };
    expect(stream).toMatchObject({ fd: 1, sync: true });
    expect(publisher.logger.level).toBe('info');
  });

  it('keeps the pino name field when given one', async () => {
    const destination = new MemoryDestination();
    const publisher = create({ destination, name: 'hodei-events' });
    await publisher.publish(sampleEvents()[0]!);
    expect(parseLogLines(destination.text())[0]).toMatchObject({ name: 'hodei-events' });
  });
});

describe('PinoEventPublisher redaction', () => {
  // Event data are flat primitives today; these fields stand in for whatever a future event,
  // or a careless caller, might carry.
  const leaky = (): LifecycleEvent =>
    ({
      ...sampleEvents('p-red', 'w-red')[0]!,
      apiToken: 'tok-top',
      env: {
        DB_PASSWORD: 'pw-nested',
        Client_Secret: 'sec-nested',
        keep: 'visible-value',
        deeper: [{ refreshTOKEN: 'tok-in-array', n: 1 }, 'plain'],
      },
    }) as unknown as LifecycleEvent;

  it('redacts values of secret-looking keys at any depth, case-insensitively', async () => {
    const path = await tempLog();
    const publisher = create({ destination: path });
    expect((await publisher.publish(leaky())).isOk()).toBe(true);
    await publisher.close();

    const text = await readFile(path, 'utf8');
    for (const secret of ['tok-top', 'pw-nested', 'sec-nested', 'tok-in-array']) {
      expect(text).not.toContain(secret);
    }
    const data = envelopeOf((await readLogLines(path))[0]!)['data'];
    expect(data).toMatchObject({
      apiToken: '[Redacted]',
      image: 'hodei/worker:0.1.0',
      env: {
        DB_PASSWORD: '[Redacted]',
        Client_Secret: '[Redacted]',
        keep: 'visible-value',
        deeper: [{ refreshTOKEN: '[Redacted]', n: 1 }, 'plain'],
      },
    });
  });

  it('leaves the event it was given untouched', async () => {
    const publisher = create({ destination: new MemoryDestination() });
    const event = leaky();
    const before = structuredClone(event);
    await publisher.publish(event);
    expect(event).toEqual(before);
  });

  it('accepts a wider secret-key pattern', async () => {
    const destination = new MemoryDestination();
    const publisher = create({ destination, secretKeys: /token|password|secret|apikey/i });
    await publisher.publish({
      ...sampleEvents()[0]!,
      ApiKey: 'k-1',
    } as unknown as LifecycleEvent);
    expect(destination.text()).not.toContain('k-1');
  });
});

describe('PinoEventPublisher failures', () => {
  it('returns PublisherUnavailable, without throwing, when the file cannot take the write', async () => {
    // /dev/full opens fine and fails every write with ENOSPC: a full disk.
    const publisher = create({ destination: '/dev/full' });
    const result = await publisher.publish(sampleEvents()[0]!);
    expect(result.isErr() && result.error).toMatchObject({
      type: 'PublisherUnavailable',
      retryable: true,
      message: expect.stringContaining('ENOSPC') as unknown,
    });
    expect(
      result.isErr() && result.error.type === 'PublisherUnavailable' && result.error.cause,
    ).toMatchObject({ code: 'ENOSPC' });
    const closed = await publisher.close();
    expect(closed.isErr() && closed.error.type).toBe('PublisherUnavailable');
    expect((await publisher.close()).isOk()).toBe(true);
  });

  it('refuses every publish once the reader of its pipe went away (EPIPE)', async () => {
    const fifo = await tempLog('events.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY);
    closeSync(reader);
    try {
      const publisher = create({ destination: writer });
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const result = await publisher.publish(sampleEvents()[0]!);
        expect(result.isErr() && result.error).toMatchObject({
          type: 'PublisherUnavailable',
          message: expect.stringContaining('EPIPE') as unknown,
        });
      }
      await publisher.close();
    } finally {
      closeSync(writer);
    }
  });

  it('returns PublisherUnavailable when a stream destination throws on write', async () => {
    const publisher = create({
      destination: {
        write: () => {
          throw new Error('pipe gone');
        },
      },
    });
    const result = await publisher.publish(sampleEvents()[0]!);
    expect(result.isErr() && result.error).toMatchObject({
      type: 'PublisherUnavailable',
      message: expect.stringContaining('pipe gone') as unknown,
    });
  });

  it('says how many events of a batch were written when the destination fails midway', async () => {
    const written: string[] = [];
    const publisher = create({
      level: 'debug',
      destination: {
        write: (line: string) => {
          if (written.length === 2) throw new Error('quota exceeded');
          written.push(line);
        },
      },
    });
    const result = await publisher.publishBatch(sampleEvents().slice(0, 4));
    expect(result.isErr() && result.error.message).toContain(
      '2 of 4 events published before the failure',
    );
    expect(written).toHaveLength(2);
  });

  it('reports an asynchronous stream error on the next publish and refuses the dead stream after', async () => {
    const stream = new Writable({
      write: (_chunk, _encoding, callback) => callback(new Error('disk detached')),
    });
    const publisher = create({ destination: stream });
    // The failure surfaces after the write call returned, as with any async stream.
    expect((await publisher.publish(sampleEvents()[0]!)).isOk()).toBe(true);
    await nextMacrotask();
    const second = await publisher.publish(sampleEvents()[0]!);
    expect(second.isErr() && second.error).toMatchObject({
      type: 'PublisherUnavailable',
      message: expect.stringContaining('disk detached') as unknown,
    });
    const third = await publisher.publish(sampleEvents()[0]!);
    expect(third.isErr() && third.error).toMatchObject({
      type: 'PublisherUnavailable',
      message: expect.stringContaining('destination is closed') as unknown,
    });
  });

  it('refuses an invalid event with InvalidEvent and writes nothing of its batch', async () => {
    const destination = new MemoryDestination();
    const publisher = create({ destination });
    const [created] = sampleEvents();
    const bogus = { ...created!, type: 'WorkerExploded' } as unknown as LifecycleEvent;
    const result = await publisher.publishBatch([created!, bogus]);
    expect(result.isErr() && result.error).toEqual({
      type: 'InvalidEvent',
      message: 'unknown event type "WorkerExploded"',
      eventId: created!.eventId,
    });
    expect(destination.text()).toBe('');
  });

  it('refuses an unknown level with LoggerSetupFailed and leaves no file open', async () => {
    const path = await tempLog();
    const result = PinoEventPublisher.create({ destination: path, level: 'loud' as 'info' });
    expect(result.isErr() && result.error.type).toBe('LoggerSetupFailed');
    // The descriptor is released through fs callbacks: wait for them, not for a fixed time.
    await vi.waitFor(async () => expect(await openFds(path)).toBe(0));
  });

  it('fails to start with LoggerSetupFailed when the log file cannot be opened', async () => {
    const blocker = await tempLog('a-file');
    await writeFile(blocker, 'not a directory');
    const result = PinoEventPublisher.create({ destination: join(blocker, 'events.log') });
    expect(result.isErr() && result.error).toMatchObject({
      type: 'LoggerSetupFailed',
      message: expect.stringContaining(blocker) as unknown,
    });
  });
});

describe('PinoEventPublisher close', () => {
  it('closes the file it opened, and refuses later publishes with PublisherClosed', async () => {
    const path = await tempLog();
    const publisher = create({ destination: path });
    await publisher.publish(sampleEvents()[0]!);
    expect(await openFds(path)).toBe(1);
    expect((await publisher.close()).isOk()).toBe(true);
    expect(await openFds(path)).toBe(0);
    expect(await readEventLog(path)).toHaveLength(1);
    for (const result of [
      await publisher.publish(sampleEvents()[0]!),
      await publisher.publishBatch([]),
    ]) {
      expect(result.isErr() && result.error.type).toBe('PublisherClosed');
    }
  });

  it('appends to an existing log and creates missing directories', async () => {
    const path = join(await tempLog('nested'), 'deeper', 'events.log');
    const events = sampleEvents();
    for (const event of events.slice(0, 2)) {
      const publisher = create({ destination: path, level: 'debug' });
      await publisher.publish(event);
      await publisher.close();
    }
    expect(await readEventLog(path)).toEqual(events.slice(0, 2));
  });

  it('leaves a stream it was given open', async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        chunks.push(chunk.toString());
        callback();
      },
    });
    const publisher = create({ destination: stream });
    await publisher.publish(sampleEvents()[0]!);
    expect((await publisher.close()).isOk()).toBe(true);
    expect(stream.writable).toBe(true);
    expect(parseLogLines(chunks.join(''))).toHaveLength(1);
  });

  it('leaves a file descriptor it was given open', async () => {
    const path = await tempLog();
    const fd = openSync(path, 'a');
    try {
      const publisher = create({ destination: fd });
      await publisher.publish(sampleEvents()[0]!);
      expect((await publisher.close()).isOk()).toBe(true);
      expect(() => fstatSync(fd)).not.toThrow();
      expect(await readEventLog(path)).toHaveLength(1);
    } finally {
      closeSync(fd);
    }
  });

  it('writes through a shared pino logger at its own level, and leaves that logger usable', async () => {
    const destination = new MemoryDestination();
    const shared = pino({ level: 'info' }, destination);
    const publisher = create({ logger: shared, level: 'debug' });
    await publisher.publishBatch(sampleEvents().slice(0, 2));
    expect((await publisher.close()).isOk()).toBe(true);
    shared.info('still open');
    expect(parseLogLines(destination.text()).map((line) => line['msg'])).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'still open',
    ]);
  });
});
