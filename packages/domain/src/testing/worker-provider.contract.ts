import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerProfile } from '../policy/profiles.js';
import type {
  ProviderWatchEvent,
  WorkerHandle,
  WorkerProvider,
  WorkerSpec,
  WorkerStatus,
} from '../ports/worker-provider.port.js';
import { OWNERSHIP_LABELS, parseOwnership } from '../provider/ownership.js';
import type { WorkerId } from '../worker/ids.js';

/** A resource created outside the provider, for the ownership-safety cases. */
export interface ForeignResource {
  readonly resourceId: string;
  exists(): Promise<boolean>;
  remove(): Promise<void>;
}

export interface ProviderContractSubject {
  readonly provider: WorkerProvider;
  /** An image the provider can run `sh -c`, `echo`, `sleep` and `exit` in. */
  readonly image: string;
  /** A prefix for worker ids, unique to this run, so runs never collide. */
  readonly workerIdPrefix: string;
  /** Lets time pass: simulated providers advance their clock, real ones just wait. */
  advance(ms: number): Promise<void>;
  /** Creates a running resource with exactly these labels, not through the provider. */
  createForeignResource(labels: Record<string, string>): Promise<ForeignResource>;
  /** Removes whatever the run left behind. */
  teardown(): Promise<void>;
}

export interface ProviderContractOptions {
  /** How long to wait for a resource to reach a state, in `advance` steps of `stepMs`. */
  readonly timeoutMs?: number;
  readonly stepMs?: number;
}

const LONG_RUNNING = ['sh', '-c', 'sleep 3600'];

/**
 * The behaviour every WorkerProvider owes the lifecycle manager (SPEC §4). Run it against the
 * in-memory fake and against each real adapter, so the fake stays honest.
 */
export function describeWorkerProviderContract(
  name: string,
  setup: () => Promise<ProviderContractSubject>,
  options: ProviderContractOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const stepMs = options.stepMs ?? 200;

  describe(`WorkerProvider contract: ${name}`, () => {
    let subject: ProviderContractSubject;
    let counter = 0;
    const created: WorkerHandle[] = [];

    beforeAll(async () => {
      subject = await setup();
    });

    afterAll(async () => {
      for (const handle of created) {
        await subject?.provider.destroyWorker(handle, { gracePeriod: 0 });
      }
      await subject?.teardown();
    });

    const nextId = (): WorkerId => `${subject.workerIdPrefix}-${++counter}` as WorkerId;

    const spec = (overrides: Partial<WorkerSpec> = {}): WorkerSpec => ({
      workerId: nextId(),
      mode: 'job',
      image: subject.image,
      command: LONG_RUNNING,
      policy: dockerProfile,
      ...overrides,
    });

    const create = async (overrides: Partial<WorkerSpec> = {}): Promise<WorkerHandle> => {
      const result = await subject.provider.createWorker(spec(overrides));
      if (result.isErr()) throw new Error(`createWorker failed: ${JSON.stringify(result.error)}`);
      created.push(result.value);
      return result.value;
    };

    const statusOf = async (handle: WorkerHandle): Promise<WorkerStatus> => {
      const result = await subject.provider.getWorkerStatus(handle);
      if (result.isErr())
        throw new Error(`getWorkerStatus failed: ${JSON.stringify(result.error)}`);
      return result.value;
    };

    const eventually = async <T>(
      read: () => Promise<T>,
      done: (value: T) => boolean,
      what: string,
    ): Promise<T> => {
      let waited = 0;
      let value = await read();
      while (!done(value)) {
        if (waited >= timeoutMs) {
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`,
          );
        }
        await subject.advance(stepMs);
        waited += stepMs;
        value = await read();
      }
      return value;
    };

    const listed = async (): Promise<string[]> => {
      const result = await subject.provider.listManagedWorkers();
      if (result.isErr())
        throw new Error(`listManagedWorkers failed: ${JSON.stringify(result.error)}`);
      return result.value.map((r) => r.resourceId);
    };

    it('creates a running resource and returns a handle naming the worker, the provider and the resource', async () => {
      const s = spec();
      const result = await subject.provider.createWorker(s);
      expect(result.isOk()).toBe(true);
      const handle = result._unsafeUnwrap();
      created.push(handle);
      expect(handle.workerId).toBe(s.workerId);
      expect(handle.providerId).toBe(subject.provider.providerId);
      expect(handle.resourceId).not.toBe('');
      const status = await eventually(
        () => statusOf(handle),
        (st) => st.state === 'running',
        'running',
      );
      expect(status.state).toBe('running');
    });

    it('lists the resource with ownership labels that read back to the same worker, mode, creation time and policy', async () => {
      const s = spec({ mode: 'agent', labels: { team: 'builds' } });
      const handle = (await subject.provider.createWorker(s))._unsafeUnwrap();
      created.push(handle);
      const list = (await subject.provider.listManagedWorkers())._unsafeUnwrap();
      const mine = list.find((r) => r.resourceId === handle.resourceId);
      expect(mine).toBeDefined();
      expect(mine?.labels['team']).toBe('builds');
      const facts = parseOwnership(mine?.labels ?? {}, subject.provider.providerId)._unsafeUnwrap();
      expect(facts.workerId).toBe(s.workerId);
      expect(facts.mode).toBe('agent');
      expect(facts.createdAt).toBe(handle.createdAt);
      expect(facts.policy).toEqual(s.policy);
    });

    it('reports a job that exits by itself as exited with its exit code, and keeps its output', async () => {
      const handle = await create({
        command: ['sh', '-c', 'echo hello from the contract; exit 3'],
      });
      const status = await eventually(
        () => statusOf(handle),
        (st) => st.state === 'exited',
        'exit',
      );
      expect(status).toMatchObject({ state: 'exited', exitCode: 3, oomKilled: false });
      const logs = (await subject.provider.logs(handle, {}))._unsafeUnwrap();
      const lines: string[] = [];
      for await (const line of logs) lines.push(line.line);
      expect(lines).toContain('hello from the contract');
    });

    it('stops a resource and keeps it, then destroys it so that it is missing and no longer listed', async () => {
      const handle = await create();
      await eventually(
        () => statusOf(handle),
        (st) => st.state === 'running',
        'running',
      );
      expect((await subject.provider.stopWorker(handle, { gracePeriod: 1_000 })).isOk()).toBe(true);
      await eventually(
        () => statusOf(handle),
        (st) => st.state === 'exited',
        'stopped',
      );
      expect(await listed()).toContain(handle.resourceId);
      expect((await subject.provider.destroyWorker(handle, { gracePeriod: 1_000 })).isOk()).toBe(
        true,
      );
      expect(await statusOf(handle)).toEqual({ state: 'missing' });
      expect(await listed()).not.toContain(handle.resourceId);
    });

    it('destroys idempotently: twice, concurrently, and a resource that never existed', async () => {
      const handle = await create();
      const results = await Promise.all([
        subject.provider.destroyWorker(handle, { gracePeriod: 0 }),
        subject.provider.destroyWorker(handle, { gracePeriod: 0 }),
      ]);
      expect(results.every((r) => r.isOk())).toBe(true);
      expect((await subject.provider.destroyWorker(handle, { gracePeriod: 0 })).isOk()).toBe(true);
      const ghost: WorkerHandle = {
        ...handle,
        workerId: nextId(),
        resourceId: `${handle.resourceId}-never`,
      };
      expect((await subject.provider.destroyWorker(ghost, { gracePeriod: 0 })).isOk()).toBe(true);
      expect(await statusOf(ghost)).toEqual({ state: 'missing' });
    });

    it('rejects reserved labels and environment variables with InvalidWorkerSpec and creates nothing', async () => {
      const before = await listed();
      const result = await subject.provider.createWorker(
        spec({ labels: { 'hodei.managed': 'false' }, env: { HODEI_WORKER_ID: 'x' } }),
      );
      expect(result.isErr()).toBe(true);
      const error = result._unsafeUnwrapErr();
      expect(error.type).toBe('InvalidWorkerSpec');
      if (error.type === 'InvalidWorkerSpec') {
        expect(error.problems.map((p) => p.path).sort()).toEqual([
          'env.HODEI_WORKER_ID',
          'labels.hodei.managed',
        ]);
      }
      expect(await listed()).toEqual(before);
    });

    it('refuses a second resource for a worker id that already has one, and leaves the first alone', async () => {
      const s = spec();
      const first = (await subject.provider.createWorker(s))._unsafeUnwrap();
      created.push(first);
      const second = await subject.provider.createWorker(s);
      expect(second.isErr()).toBe(true);
      expect(second._unsafeUnwrapErr().type).toBe('WorkerAlreadyExists');
      expect(await listed()).toContain(first.resourceId);
      expect((await statusOf(first)).state).not.toBe('missing');
    });

    it('never lists, stops or destroys a resource without its labels or with another provider id', async () => {
      const other = await subject.createForeignResource({
        [OWNERSHIP_LABELS.managed]: 'true',
        [OWNERSHIP_LABELS.providerId]: `${subject.provider.providerId}-other`,
        [OWNERSHIP_LABELS.workerId]: 'someone-else',
      });
      const bare = await subject.createForeignResource({});
      try {
        for (const foreign of [other, bare]) {
          expect(await listed()).not.toContain(foreign.resourceId);
          const handle: WorkerHandle = {
            workerId: 'someone-else' as WorkerId,
            resourceId: foreign.resourceId,
            providerId: subject.provider.providerId,
            createdAt: 0,
          };
          const stop = await subject.provider.stopWorker(handle, { gracePeriod: 0 });
          const destroy = await subject.provider.destroyWorker(handle, { gracePeriod: 0 });
          expect(stop.isErr() && stop.error.type).toBe('ResourceNotOwned');
          expect(destroy.isErr() && destroy.error.type).toBe('ResourceNotOwned');
          expect(await foreign.exists()).toBe(true);
        }
      } finally {
        await other.remove();
        await bare.remove();
      }
    });

    it('answers health with its provider id', async () => {
      const health = await subject.provider.health();
      expect(health._unsafeUnwrap().providerId).toBe(subject.provider.providerId);
    });

    it('pushes started and exited notifications for its own resources when it can watch', async () => {
      if (subject.provider.watch === undefined) {
        // Not every provider can push; reconciliation covers those (SPEC §5).
        expect(subject.provider.watch).toBeUndefined();
        return;
      }
      const seen: ProviderWatchEvent[] = [];
      const subscription = subject.provider.watch((e) => seen.push(e));
      try {
        const handle = await create({ command: ['sh', '-c', 'sleep 1; exit 4'] });
        await eventually(
          () =>
            Promise.resolve(
              seen
                .filter((e) => 'resourceId' in e && e.resourceId === handle.resourceId)
                .map((e) => e.type),
            ),
          (types) => types.includes('started') && types.includes('exited'),
          'started and exited notifications',
        );
        const exited = seen.find(
          (e) => 'resourceId' in e && e.resourceId === handle.resourceId && e.type === 'exited',
        );
        expect(exited).toMatchObject({ workerId: handle.workerId, exitCode: 4 });
      } finally {
        subscription.close();
      }
    });
  });
}
