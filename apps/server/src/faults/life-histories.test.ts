import { describe, expect, it } from 'vitest';
import {
  lifeProblems,
  livesOf,
  lostEvents,
  orderFindings,
  unreportedRemovals,
  type LoggedEvent,
} from './life-histories.js';

let position = 0;
const event = (
  type: string,
  resourceId: string,
  data: Record<string, unknown> = {},
): LoggedEvent => {
  position += 1;
  return {
    eventId: `e-${position}`,
    type,
    streamId: 'worker:w1',
    streamPosition: position,
    globalPosition: position,
    data: { resourceId, ...data },
  };
};

describe('the fault checker reading lives from the log', () => {
  it('splits one id into lives by resource and finds a life that does not start with Created', () => {
    const { lives, findings } = livesOf([
      event('WorkerEphemeralCreated', 'r1', { mode: 'job' }),
      event('WorkerEphemeralTerminated', 'r1', { exitCode: 3, reason: 'JobCompleted' }),
      event('WorkerEphemeralCleanedUp', 'r1'),
      event('WorkerRecovered', 'r2'),
    ]);
    expect(findings).toEqual([]);
    expect(lives.map((l) => l.resourceId)).toEqual(['r1', 'r2']);
    expect(lifeProblems(lives[0]!, false)).toEqual([]);
    expect(lifeProblems(lives[1]!, true)).toEqual([
      'starts with WorkerRecovered, not WorkerEphemeralCreated',
    ]);
  });

  it('finds two terminal events, a lost exit code and a life untracked but never ended', () => {
    const { lives } = livesOf([
      event('WorkerEphemeralCreated', 'r1', { mode: 'job' }),
      event('WorkerEphemeralTerminated', 'r1', { exitCode: null, reason: 'JobCompleted' }),
      event('WorkerEphemeralFailed', 'r1'),
    ]);
    expect(lifeProblems(lives[0]!, true)).toEqual([
      '2 terminal events: WorkerEphemeralCreated → WorkerEphemeralTerminated → WorkerEphemeralFailed',
      'Terminated (JobCompleted) without the exit code',
    ]);
    const { lives: open } = livesOf([event('WorkerEphemeralCreated', 'r9', { mode: 'agent' })]);
    expect(lifeProblems(open[0]!, false)).toEqual([
      'untracked but never ended: WorkerEphemeralCreated',
    ]);
  });

  it('takes a WorkerLost after the exit (removed once it had exited) for a valid life', () => {
    const { lives } = livesOf([
      event('WorkerEphemeralCreated', 'r1', { mode: 'job' }),
      event('WorkerEphemeralTerminated', 'r1', { exitCode: 0, reason: 'JobCompleted' }),
      event('WorkerLost', 'r1'),
    ]);
    expect(lifeProblems(lives[0]!, false)).toEqual([]);
    expect(lifeProblems(lives[0]!, true)).toEqual([]);
  });

  it('takes a WorkerLost before the end (removed while running) for a valid life', () => {
    const { lives } = livesOf([
      event('WorkerEphemeralCreated', 'r1', { mode: 'job' }),
      event('WorkerLost', 'r1'),
      event('WorkerEphemeralTerminated', 'r1', { exitCode: null, reason: 'ProviderError' }),
      event('WorkerEphemeralCleanedUp', 'r1'),
    ]);
    expect(lifeProblems(lives[0]!, false)).toEqual([]);
  });

  it('still asks the exit code of a job that exited before it was lost', () => {
    const { lives } = livesOf([
      event('WorkerEphemeralCreated', 'r1', { mode: 'job' }),
      event('WorkerEphemeralTerminated', 'r1', { exitCode: null, reason: 'ProviderError' }),
      event('WorkerLost', 'r1'),
    ]);
    expect(lifeProblems(lives[0]!, false)).toEqual([
      'Terminated (ProviderError) without the exit code',
    ]);
  });

  it('finds a life lost twice, and one that ends twice around its loss', () => {
    const { lives } = livesOf([
      event('WorkerEphemeralCreated', 'r1', { mode: 'agent' }),
      event('WorkerLost', 'r1'),
      event('WorkerEphemeralTerminated', 'r1', { exitCode: null, reason: 'ProviderError' }),
      event('WorkerLost', 'r1'),
    ]);
    expect(lifeProblems(lives[0]!, false)).toEqual([
      '2 WorkerLost: WorkerEphemeralCreated → WorkerLost → WorkerEphemeralTerminated → WorkerLost',
    ]);
    const { lives: twice } = livesOf([
      event('WorkerEphemeralCreated', 'r2', { mode: 'agent' }),
      event('WorkerEphemeralTerminated', 'r2', { exitCode: 137, reason: 'ProviderError' }),
      event('WorkerLost', 'r2'),
      event('WorkerEphemeralTerminated', 'r2', { exitCode: null, reason: 'ProviderError' }),
    ]);
    expect(lifeProblems(twice[0]!, false)).toEqual([
      '2 terminal events: WorkerEphemeralCreated → WorkerEphemeralTerminated → WorkerLost → WorkerEphemeralTerminated',
    ]);
  });

  it('takes a life that was only lost for ended, but not one lost after its CleanedUp', () => {
    const { lives } = livesOf([
      event('WorkerEphemeralCreated', 'r1', { mode: 'agent' }),
      event('WorkerLost', 'r1'),
    ]);
    expect(lifeProblems(lives[0]!, false)).toEqual([]);
    const { lives: late } = livesOf([
      event('WorkerEphemeralCreated', 'r2', { mode: 'agent' }),
      event('WorkerEphemeralTerminated', 'r2', { exitCode: 0, reason: 'JobCompleted' }),
      event('WorkerEphemeralCleanedUp', 'r2'),
      event('WorkerLost', 'r2'),
    ]);
    expect(lifeProblems(late[0]!, false)).toEqual(['WorkerLost after CleanedUp']);
  });

  it('counts an acknowledged create or delete whose event is missing as lost', () => {
    const { lives } = livesOf([event('WorkerEphemeralCreated', 'r1', { mode: 'agent' })]);
    const at = 0;
    const lost = lostEvents(
      [
        { kind: 'create', workerId: 'w1', mode: 'agent', resourceId: 'r1', status: 201, at },
        { kind: 'delete', workerId: 'w1', mode: 'agent', resourceId: 'r1', status: 202, at },
        { kind: 'create', workerId: 'w1', mode: 'job', resourceId: 'r2', status: 201, at },
      ],
      lives,
      new Set(),
    );
    expect(lost.map((f) => f.problem)).toEqual([
      'delete (202) without its event',
      'create (201) without its event',
    ]);
  });

  it('finds a gap in a stream and a duplicate event id', () => {
    const a = event('WorkerEphemeralCreated', 'r1');
    const b = { ...event('WorkerEphemeralReady', 'r1'), streamPosition: a.streamPosition + 2 };
    const c = {
      ...event('WorkerEphemeralBusy', 'r1'),
      eventId: a.eventId,
      streamPosition: b.streamPosition + 1,
    };
    const { duplicates, order } = orderFindings([a, b, c]);
    expect(duplicates).toHaveLength(1);
    expect(order).toHaveLength(1);
  });
});

describe('the fault checker expecting WorkerLost for a removal behind our back', () => {
  const at = (iso: string) => Date.parse(`2026-01-01T00:00:${iso}Z`);
  const timed = (
    type: string,
    resourceId: string,
    s: string,
    data: Record<string, unknown> = {},
  ) => ({
    ...event(type, resourceId, data),
    time: `2026-01-01T00:00:${s}Z`,
  });

  it('finds a running worker removed without WorkerLost, and none once it is reported', () => {
    const created = timed('WorkerEphemeralCreated', 'r1', '01.000', { mode: 'agent' });
    const ended = timed('WorkerEphemeralTerminated', 'r1', '10.100', {
      exitCode: 137,
      reason: 'ProviderError',
      ttlExpiresAt: '2026-01-01T00:00:15.000Z',
    });
    const removal = { resourceId: 'r1', doneAt: at('10.200') };
    const { lives } = livesOf([created, ended]);
    expect(unreportedRemovals([removal], lives).map((f) => f.subject)).toEqual(['w1/r1']);
    const { lives: reported } = livesOf([created, ended, timed('WorkerLost', 'r1', '10.300')]);
    expect(unreportedRemovals([removal], reported)).toEqual([]);
  });

  it('excuses a removal while a DELETE was ending the life, but not one before it', () => {
    const { lives } = livesOf([
      timed('WorkerEphemeralCreated', 'r1', '01.000', { mode: 'agent' }),
      timed('WorkerEphemeralTerminating', 'r1', '10.000', { reason: 'ManualTermination' }),
      timed('WorkerEphemeralTerminated', 'r1', '10.400', { exitCode: 143 }),
    ]);
    expect(unreportedRemovals([{ resourceId: 'r1', doneAt: at('10.200') }], lives)).toEqual([]);
    expect(unreportedRemovals([{ resourceId: 'r1', doneAt: at('05.000') }], lives, 0)).toHaveLength(
      1,
    );
  });

  it('excuses a finished worker the server cleaned up itself as it was removed, not one cleaned up long after', () => {
    const { lives } = livesOf([
      timed('WorkerEphemeralCreated', 'r1', '01.000', { mode: 'job' }),
      timed('WorkerEphemeralTerminated', 'r1', '02.000', {
        exitCode: 0,
        reason: 'JobCompleted',
        ttlExpiresAt: '2026-01-01T00:00:30.000Z',
      }),
      timed('WorkerEphemeralCleanedUp', 'r1', '02.400', { cleanupReason: 'ForceCleanup' }),
    ]);
    expect(unreportedRemovals([{ resourceId: 'r1', doneAt: at('02.500') }], lives, 0)).toEqual([]);
    expect(unreportedRemovals([{ resourceId: 'r1', doneAt: at('02.300') }], lives, 0)).toHaveLength(
      1,
    );
  });

  it('excuses a finished worker removed within 2 s of its retention end, not earlier', () => {
    const { lives } = livesOf([
      timed('WorkerEphemeralCreated', 'r1', '01.000', { mode: 'job' }),
      timed('WorkerEphemeralTerminated', 'r1', '02.000', {
        exitCode: 0,
        reason: 'JobCompleted',
        ttlExpiresAt: '2026-01-01T00:00:07.000Z',
      }),
    ]);
    expect(unreportedRemovals([{ resourceId: 'r1', doneAt: at('05.500') }], lives, 0)).toEqual([]);
    expect(unreportedRemovals([{ resourceId: 'r1', doneAt: at('04.500') }], lives, 0)).toHaveLength(
      1,
    );
  });

  it('finds a removal of which the log holds no life at all', () => {
    expect(unreportedRemovals([{ resourceId: 'r7', doneAt: 0 }], [])).toEqual([
      { subject: 'r7', problem: 'removed, but no life in the log' },
    ]);
  });
});
