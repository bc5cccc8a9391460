import { err } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import type { PolicyOverride } from '../policy/policy-override.js';
import { lifecycleHarness } from '../testing/lifecycle-harness.js';
import { LifecycleManager } from './lifecycle-manager.js';

const s = (seconds: number) => seconds * 1000;

const shortPolicy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .ttlAfterCompletion(s(60))
  .idleTimeout(s(120))
  .gracefulTerminationTimeout(s(10))
  .startupTimeout(s(30))
  .build()
  ._unsafeUnwrap();

describe('LifecycleManager.changePolicy', () => {
  it('moves the lifetime deadline: no termination at the old one, termination at the new one', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create();
    await h.advance(s(100));
    const outcome = (
      await h.manager.changePolicy(
        job.workerId,
        { maxLifetime: s(900) },
        { actor: 'api', correlationId: 'req-1' },
      )
    )._unsafeUnwrap();
    expect(outcome.changed).toEqual(['maxLifetime']);
    expect(outcome.previous.maxLifetime).toBe(s(600));
    expect(outcome.worker.policy.maxLifetime).toBe(s(900));
    expect(h.manager.getWorker(job.workerId)?.policy.maxLifetime).toBe(s(900));

    await h.advance(s(500)); // 600 s after creation: the old deadline
    const before = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(before.lifetimeExceeded).toBe(0);
    expect(h.manager.getWorker(job.workerId)?.state).toBe('busy');

    await h.advance(s(300)); // 900 s: the new one
    const after = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(after.lifetimeExceeded).toBe(1);
    expect(h.manager.getWorker(job.workerId)?.terminationReason).toBe('LifetimeExceeded');
  });

  it('emits one WorkerEphemeralPolicyChanged with the old and new values in ms and the context', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    await h.manager.changePolicy(
      agent.workerId,
      { idleTimeout: s(300), ttlAfterCompletion: null },
      { actor: 'cli', correlationId: 'req-2' },
    );
    const changes = h.publisher.ofType('WorkerEphemeralPolicyChanged');
    expect(changes).toEqual([
      {
        eventId: expect.any(String) as string,
        occurredAt: new Date(h.clock.now()).toISOString(),
        providerId: 'fake',
        workerId: agent.workerId,
        resourceId: agent.resourceId,
        actor: 'cli',
        correlationId: 'req-2',
        type: 'WorkerEphemeralPolicyChanged',
        previous: {
          maxLifetime: s(600),
          ttlAfterCompletion: s(60),
          idleTimeout: s(120),
          gracefulTerminationTimeout: s(10),
          startupTimeout: s(30),
          expiryWarning: shortPolicy.expiryWarning,
        },
        current: {
          maxLifetime: s(600),
          ttlAfterCompletion: null,
          idleTimeout: s(300),
          gracefulTerminationTimeout: s(10),
          startupTimeout: s(30),
          expiryWarning: shortPolicy.expiryWarning,
        },
        changed: ['ttlAfterCompletion', 'idleTimeout'],
      },
    ]);
  });

  it('changes nothing and emits nothing when the values are the current ones', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create();
    const before = h.publisher.events.length;
    const outcome = (
      await h.manager.changePolicy(job.workerId, { maxLifetime: s(600), idleTimeout: s(120) })
    )._unsafeUnwrap();
    expect(outcome.changed).toEqual([]);
    expect(outcome.worker).toBe(h.manager.getWorker(job.workerId));
    expect(h.publisher.events.length).toBe(before);
  });

  it('merges onto the worker’s current policy, not the provider’s', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    // idleTimeout may not exceed maxLifetime: 700 s is refused under 600 s…
    const refused = await h.manager.changePolicy(agent.workerId, { idleTimeout: s(700) });
    expect(refused.isErr() && refused.error.type).toBe('InvalidPolicy');
    // …and accepted once the lifetime was extended by an earlier change.
    await h.manager.changePolicy(agent.workerId, { maxLifetime: s(900) });
    const accepted = (
      await h.manager.changePolicy(agent.workerId, { idleTimeout: s(700) })
    )._unsafeUnwrap();
    expect(accepted.worker.policy).toMatchObject({ maxLifetime: s(900), idleTimeout: s(700) });
    expect(accepted.changed).toEqual(['idleTimeout']);
  });

  it('gives back the provider’s policy object once a change returns to its values', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create();
    await h.manager.changePolicy(job.workerId, { maxLifetime: s(900) });
    expect(h.manager.getWorker(job.workerId)?.policy).not.toBe(h.manager.policy);
    await h.manager.changePolicy(job.workerId, { maxLifetime: s(600) });
    expect(h.manager.getWorker(job.workerId)?.policy).toBe(h.manager.policy);
  });

  it('refuses a maxLifetime past the operator’s cap, naming the limit', async () => {
    const h = lifecycleHarness({ policy: shortPolicy, maxLifetimeCap: s(1200) });
    const job = await h.create();
    const before = h.publisher.events.length;
    const result = await h.manager.changePolicy(job.workerId, { maxLifetime: s(1201) });
    expect(result).toEqual(
      err({
        type: 'PolicyLimitExceeded',
        workerId: job.workerId,
        field: 'maxLifetime',
        limit: s(1200),
        value: s(1201),
        message: expect.stringContaining('1200000') as string,
      }),
    );
    expect(h.manager.getWorker(job.workerId)?.policy.maxLifetime).toBe(s(600));
    expect(h.publisher.events.length).toBe(before);
    // Up to the cap is allowed.
    expect((await h.manager.changePolicy(job.workerId, { maxLifetime: s(1200) })).isOk()).toBe(
      true,
    );
  });

  it('refuses invalid values and provider-only or unknown fields, listing every problem', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create();
    const change = {
      maxLifetime: -5,
      idleTimeout: 1.5,
      orphanAction: 'remove',
      colour: 'blue',
    } as unknown as PolicyOverride;
    const result = await h.manager.changePolicy(job.workerId, change);
    expect(result.isErr()).toBe(true);
    const error = result._unsafeUnwrapErr();
    expect(error.type).toBe('InvalidPolicy');
    const problems = error.type === 'InvalidPolicy' ? error.problems : [];
    expect(problems.map((p) => [p.type, p.field])).toEqual(
      expect.arrayContaining([
        ['ProviderOnlyPolicyField', 'orphanAction'],
        ['UnknownPolicyField', 'colour'],
        ['InvalidPolicyValue', 'maxLifetime'],
        ['InvalidPolicyValue', 'idleTimeout'],
      ]),
    );
    expect(h.manager.getWorker(job.workerId)?.policy).toBe(h.manager.policy);
    expect(h.publisher.ofType('WorkerEphemeralPolicyChanged')).toEqual([]);
  });

  it('refuses any change to a terminating worker', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    await h.manager.startTermination(agent.workerId, 'ManualTermination');
    const result = await h.manager.changePolicy(agent.workerId, { ttlAfterCompletion: s(600) });
    expect(result).toEqual(
      err({
        type: 'PolicyNotChangeable',
        workerId: agent.workerId,
        state: 'terminating',
        message: expect.any(String) as string,
      }),
    );
  });

  it('lets a terminated worker extend its retention, moving the cleanup', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create({ command: ['sh', '-c', 'sleep 5; exit 0'] });
    await h.advance(s(5));
    expect(h.manager.getWorker(job.workerId)?.state).toBe('terminated');
    (await h.manager.changePolicy(job.workerId, { ttlAfterCompletion: s(300) }))._unsafeUnwrap();

    await h.advance(s(60)); // the old retention is over
    const before = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(before.ttlExpired).toBe(0);
    expect(h.provider.has(job.resourceId)).toBe(true);

    await h.advance(s(240)); // the new one
    const after = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(after.ttlExpired).toBe(1);
    expect(h.provider.has(job.resourceId)).toBe(false);
    expect(h.manager.getWorker(job.workerId)).toBeUndefined();
  });

  it('refuses any other field of a finished worker, naming it', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create({ command: ['sh', '-c', 'sleep 5; exit 0'] });
    const failing = await h.create();
    await h.advance(s(5));
    await h.manager.markWorkerFailed(failing.workerId, 'boom');
    for (const [id, state] of [
      [job.workerId, 'terminated'],
      [failing.workerId, 'failed'],
    ] as const) {
      const result = await h.manager.changePolicy(id, {
        ttlAfterCompletion: s(300),
        maxLifetime: s(900),
      });
      expect(result).toEqual(
        err({
          type: 'PolicyNotChangeable',
          workerId: id,
          state,
          field: 'maxLifetime',
          message: expect.stringContaining('ttlAfterCompletion') as string,
        }),
      );
      expect(h.manager.getWorker(id)?.policy.ttlAfterCompletion).toBe(s(60));
    }
  });

  it('answers WorkerNotFound for a worker it does not track', async () => {
    const h = lifecycleHarness();
    const result = await h.manager.changePolicy('nobody', { maxLifetime: s(900) });
    expect(result.isErr() && result.error.type).toBe('WorkerNotFound');
  });
});

describe('changePolicy: what counts as a change, and the cap', () => {
  it('sees no change in a retention moved from null to 0: both mean none', async () => {
    const none = EphemeralWorkerPolicy.builder(shortPolicy)
      .ttlAfterCompletion(null)
      .build()
      ._unsafeUnwrap();
    const h = lifecycleHarness({ policy: none });
    const job = await h.create();
    const outcome = (
      await h.manager.changePolicy(job.workerId, { ttlAfterCompletion: 0 })
    )._unsafeUnwrap();
    expect(outcome.changed).toEqual([]);
    expect(h.publisher.ofType('WorkerEphemeralPolicyChanged')).toEqual([]);
  });

  it('lets a worker above a lowered cap shorten its lifetime, though not past where it was', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const long = EphemeralWorkerPolicy.merge(shortPolicy, { maxLifetime: s(2000) })._unsafeUnwrap();
    const job = await h.create({ policy: long });
    // The operator lowers the cap and restarts.
    const capped = new LifecycleManager({
      provider: h.provider,
      publisher: h.publisher,
      clock: h.clock,
      ids: h.ids,
      policy: shortPolicy,
      maxLifetimeCap: s(1200),
    });
    (await capped.recover())._unsafeUnwrap();
    const shorter = await capped.changePolicy(job.workerId, { maxLifetime: s(1500) });
    expect(shorter._unsafeUnwrap().changed).toEqual(['maxLifetime']);
    expect(capped.getWorker(job.workerId)?.policy.maxLifetime).toBe(s(1500));
    const longer = await capped.changePolicy(job.workerId, { maxLifetime: s(1800) });
    expect(longer._unsafeUnwrapErr()).toMatchObject({
      type: 'PolicyLimitExceeded',
      limit: s(1200),
      value: s(1800),
    });
    // Other fields of a worker above the cap still change.
    const idle = await capped.changePolicy(job.workerId, { idleTimeout: s(300) });
    expect(idle._unsafeUnwrap().changed).toEqual(['idleTimeout']);
  });

  it('refuses a create through the decorator whose maxLifetime passes the cap', async () => {
    const h = lifecycleHarness({ policy: shortPolicy, maxLifetimeCap: s(1200) });
    const long = EphemeralWorkerPolicy.merge(shortPolicy, { maxLifetime: s(1201) })._unsafeUnwrap();
    const result = await h.managed.createWorker({
      workerId: h.ids.workerId(),
      mode: 'job',
      image: 'hodei/worker:test',
      command: ['sleep', 'infinity'],
      policy: long,
    });
    expect(result._unsafeUnwrapErr()).toMatchObject({
      type: 'PolicyLimitExceeded',
      field: 'maxLifetime',
      limit: s(1200),
      value: s(1201),
    });
    expect((await h.provider.listManagedWorkers())._unsafeUnwrap()).toEqual([]);
    expect(h.manager.trackedCount).toBe(0);
    // Up to the cap is created.
    const atCap = EphemeralWorkerPolicy.merge(shortPolicy, {
      maxLifetime: s(1200),
    })._unsafeUnwrap();
    await h.create({ policy: atCap });
    expect(h.manager.trackedCount).toBe(1);
  });
});

describe('changePolicy: relative changes, and the order of the refusals', () => {
  it('counts two concurrent relative extensions both, each applied to the policy of its turn', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create();
    const extendByMinute = (p: EphemeralWorkerPolicy) => ({ maxLifetime: p.maxLifetime + s(60) });
    const [first, second] = await Promise.all([
      h.manager.changePolicy(job.workerId, extendByMinute),
      h.manager.changePolicy(job.workerId, extendByMinute),
    ]);
    expect(first._unsafeUnwrap().changed).toEqual(['maxLifetime']);
    expect(second._unsafeUnwrap().previous.maxLifetime).toBe(s(660));
    expect(h.manager.getWorker(job.workerId)?.policy.maxLifetime).toBe(s(720));
    expect(h.publisher.ofType('WorkerEphemeralPolicyChanged')).toHaveLength(2);
  });

  it('refuses another field of a finished worker for its state before validating its value', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const failing = await h.create();
    await h.manager.markWorkerFailed(failing.workerId, 'boom');
    const result = await h.manager.changePolicy(failing.workerId, { maxLifetime: -1 });
    expect(result._unsafeUnwrapErr()).toMatchObject({
      type: 'PolicyNotChangeable',
      state: 'failed',
      field: 'maxLifetime',
    });
  });

  it('names the operator’s cap first when the maxLifetime also breaks another rule', async () => {
    const h = lifecycleHarness({ policy: shortPolicy, maxLifetimeCap: s(1200) });
    const job = await h.create();
    // Above the policy maximum (30 days) as well as the cap.
    const tooLong = s(31 * 24 * 3600);
    const result = await h.manager.changePolicy(job.workerId, { maxLifetime: tooLong });
    expect(result._unsafeUnwrapErr()).toMatchObject({
      type: 'PolicyLimitExceeded',
      limit: s(1200),
      value: tooLong,
    });
  });
});
