import {
  kubernetesProfile,
  OWNERSHIP_LABELS,
  parseOwnership,
  validatePolicy,
  type ProviderId,
  type WorkerId,
  type WorkerSpec,
} from '@hodei/domain';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { describe, expect, it } from 'vitest';
import {
  buildWorkerJob,
  isLabelValue,
  isQualifiedName,
  jobNameOf,
  splitLabels,
  type JobManifestOptions,
} from './job-manifest.js';

const createdAt = Date.parse('2025-01-01T00:00:00.000Z');
const options: JobManifestOptions = {
  providerId: 'k8s-1' as ProviderId,
  namespace: 'workers',
  createdAt,
  imagePullPolicy: 'IfNotPresent',
  runAsUser: 65534,
  defaultResources: { memoryMb: 512, cpus: 1 },
};

const spec = (overrides: Partial<WorkerSpec> = {}): WorkerSpec => ({
  workerId: 'w-1' as WorkerId,
  mode: 'job',
  image: 'hodei/worker:0.1.0',
  command: ['sh', '-c', 'echo hi'],
  policy: kubernetesProfile,
  ...overrides,
});

describe('the worker Job manifest', () => {
  it('is a valid batch/v1 Job named hodei-worker-<id> with backoffLimit 0 and the TTL from ttlAfterCompletion', () => {
    const job = buildWorkerJob(spec(), options)._unsafeUnwrap();
    expect(() => new Job(job).validate()).not.toThrow();
    expect(job.metadata).toMatchObject({ name: 'hodei-worker-w-1', namespace: 'workers' });
    expect(job.spec).toMatchObject({ backoffLimit: 0, ttlSecondsAfterFinished: 300 });
  });

  it('sets ttlSecondsAfterFinished to 0 when there is no retention', () => {
    for (const ttl of [null, 0]) {
      const policy = validatePolicy({
        ...kubernetesProfile,
        ttlAfterCompletion: ttl,
      })._unsafeUnwrap();
      expect(
        buildWorkerJob(spec({ policy }), options)._unsafeUnwrap().spec?.ttlSecondsAfterFinished,
      ).toBe(0);
    }
  });

  it('gives the pod activeDeadlineSeconds = maxLifetime and terminationGracePeriodSeconds = the graceful timeout', () => {
    const pod = buildWorkerJob(spec(), options)._unsafeUnwrap().spec?.template.spec;
    expect(pod).toMatchObject({
      restartPolicy: 'Never',
      activeDeadlineSeconds: 3600,
      terminationGracePeriodSeconds: 30,
      automountServiceAccountToken: false,
    });
  });

  it('runs the container with requests and limits and a restricted security context', () => {
    const pod = buildWorkerJob(
      spec({ resources: { memoryMb: 256, cpus: 0.5 } }),
      options,
    )._unsafeUnwrap().spec?.template.spec;
    const container = pod?.containers[0];
    expect(container?.resources).toEqual({
      requests: { cpu: '500m', memory: '256Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    });
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container?.command).toEqual(['sh', '-c', 'echo hi']);
    expect(container?.env).toEqual(
      expect.arrayContaining([
        { name: 'HODEI_WORKER_ID', value: 'w-1' },
        { name: 'HODEI_PROVIDER_ID', value: 'k8s-1' },
      ]),
    );
  });

  it('uses the default resources when the spec names none', () => {
    const container = buildWorkerJob(spec(), options)._unsafeUnwrap().spec?.template.spec
      ?.containers[0];
    expect(container?.resources?.limits).toEqual({ cpu: '1000m', memory: '512Mi' });
  });

  it('puts ownership facts that are valid label values in labels and the others in annotations, on the Job and its pods', () => {
    const job = buildWorkerJob(
      spec({ labels: { team: 'builds', note: 'has spaces here' } }),
      options,
    )._unsafeUnwrap();
    const labels = job.metadata?.labels ?? {};
    const annotations = job.metadata?.annotations ?? {};
    expect(labels).toMatchObject({
      [OWNERSHIP_LABELS.managed]: 'true',
      [OWNERSHIP_LABELS.providerId]: 'k8s-1',
      [OWNERSHIP_LABELS.workerId]: 'w-1',
      [OWNERSHIP_LABELS.mode]: 'job',
      team: 'builds',
    });
    expect(Object.keys(annotations).sort()).toEqual(
      [OWNERSHIP_LABELS.createdAt, OWNERSHIP_LABELS.policy, 'note'].sort(),
    );
    expect(job.spec?.template.metadata).toEqual({ labels, annotations });
    const facts = parseOwnership({ ...annotations, ...labels }, options.providerId)._unsafeUnwrap();
    expect(facts).toMatchObject({ workerId: 'w-1', createdAt, policy: kubernetesProfile });
  });

  it('rejects reserved labels and env, invalid label keys, env names and resources, listing every problem', () => {
    const problems = buildWorkerJob(
      spec({
        image: '',
        labels: { 'hodei.mode': 'agent', 'bad key!': 'x' },
        env: { HODEI_X: '1', 'A=B': '2' },
        resources: { memoryMb: -1, cpus: 0 },
      }),
      options,
    )._unsafeUnwrapErr();
    expect(problems.map((p) => p.path).sort()).toEqual(
      [
        'env.A=B',
        'env.HODEI_X',
        'image',
        'labels.bad key!',
        'labels.hodei.mode',
        'resources.cpus',
        'resources.memoryMb',
      ].sort(),
    );
  });

  it('reports what the kubernetes-models schema rejects', () => {
    const problems = buildWorkerJob(spec(), { ...options, runAsUser: 1.5 })._unsafeUnwrapErr();
    expect(problems.some((p) => p.path.includes('runAsUser'))).toBe(true);
  });
});

describe('Kubernetes names', () => {
  it('tells label values and keys Kubernetes accepts', () => {
    expect(isLabelValue('true')).toBe(true);
    expect(isLabelValue('')).toBe(true);
    expect(isLabelValue('2025-01-01T00:00:00.000Z')).toBe(false);
    expect(isLabelValue('x'.repeat(64))).toBe(false);
    expect(isQualifiedName('hodei.provider-id')).toBe(true);
    expect(isQualifiedName('example.com/team')).toBe(true);
    expect(isQualifiedName('Example.com/team')).toBe(false);
    expect(isQualifiedName('-bad')).toBe(false);
  });

  it('keeps hodei-worker-<id> within 63 characters for the longest worker id', () => {
    expect(jobNameOf('a'.repeat(50)).length).toBeLessThanOrEqual(63);
  });

  it('splits a map by label-value validity', () => {
    expect(splitLabels({ a: 'ok', b: '{"json":1}' })).toEqual({
      labels: { a: 'ok' },
      annotations: { b: '{"json":1}' },
    });
  });
});
