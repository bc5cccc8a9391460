import { ok } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { createBody, keyValue, splitRunOperands } from './run-request.js';

describe('splitRunOperands', () => {
  it('takes what follows -- as the command and the one operand before it as the image', () => {
    expect(
      splitRunOperands(['alpine', 'sh', '-c', 'x'], ['run', 'alpine', '--', 'sh', '-c', 'x']),
    ).toEqual(ok({ image: 'alpine', command: ['sh', '-c', 'x'] }));
  });

  it('leaves the image to the server when nothing comes before --', () => {
    expect(splitRunOperands(['sh', '-c', 'x'], ['run', '--wait', '--', 'sh', '-c', 'x'])).toEqual(
      ok({ command: ['sh', '-c', 'x'] }),
    );
  });

  it('reads operands without -- as docker run does: the image, then the command', () => {
    expect(splitRunOperands(['alpine', 'echo', 'hi'], ['run', 'alpine', 'echo', 'hi'])).toEqual(
      ok({ image: 'alpine', command: ['echo', 'hi'] }),
    );
    expect(splitRunOperands([], ['run'])).toEqual(ok({ command: [] }));
  });

  it('refuses more than the image before --, showing where the command goes', () => {
    const split = splitRunOperands(['a', 'b', 'c'], ['run', 'a', 'b', '--', 'c']);
    expect(split._unsafeUnwrapErr()).toBe(
      'only the image goes before --; the command after it: hodei workers run a -- b c',
    );
  });
});

describe('createBody', () => {
  it('sends only what was given, the policy in seconds', () => {
    expect(createBody(undefined, [], {})).toEqual({});
    expect(
      createBody('alpine:3', ['echo', 'hi'], {
        id: 'w1',
        mode: 'agent',
        provider: 'docker',
        env: { A: '1' },
        label: { team: 'ci' },
        memory: 256,
        maxLifetime: 600,
        ttlAfterCompletion: 0,
        gracePeriod: 5,
      }),
    ).toEqual({
      id: 'w1',
      mode: 'agent',
      providerId: 'docker',
      image: 'alpine:3',
      command: ['echo', 'hi'],
      env: { A: '1' },
      labels: { team: 'ci' },
      resources: { memoryMb: 256 },
      policy: {
        maxLifetimeSeconds: 600,
        ttlAfterCompletionSeconds: 0,
        gracefulTerminationTimeoutSeconds: 5,
      },
    });
  });

  it('collects KEY=VALUE pairs, a value may hold =', () => {
    expect(keyValue('B=x=y', keyValue('A=1', undefined))).toEqual({ A: '1', B: 'x=y' });
    expect(() => keyValue('novalue', undefined)).toThrow('"novalue" is not KEY=VALUE');
  });
});
