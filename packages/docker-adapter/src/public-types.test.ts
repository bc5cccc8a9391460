import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
// Under the package's node_modules, so the emitted .d.ts files resolve dockerode, its types
// and @hodei/domain as they would from an installed copy.
mkdirSync(join(packageDir, 'node_modules', '.cache'), { recursive: true });
const work = mkdtempSync(join(packageDir, 'node_modules', '.cache', 'public-types-'));

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const CONSUMER = `
import {
  connectDocker,
  containerName,
  DockerWorkerProvider,
  type DockerRegistryAuth,
  type DockerWorkerProviderOptions,
} from '@hodei/docker-adapter';
import { startDockerTestRun } from '@hodei/docker-adapter/testing';
import { parseProviderId } from '@hodei/domain';

const auth: DockerRegistryAuth = { serveraddress: 'ghcr.io', username: 'u', password: 'p' };
const options: DockerWorkerProviderOptions = {
  providerId: parseProviderId('ci-a')._unsafeUnwrap(),
  connection: connectDocker('tcp://10.0.0.5:2375'),
  network: 'ci-net',
  registryAuth: auth,
};
export async function use(): Promise<string> {
  const provider = DockerWorkerProvider.create(options)._unsafeUnwrap();
  const listed = await provider.listManagedWorkers();
  await provider[Symbol.asyncDispose]();
  void startDockerTestRun;
  return listed.isOk() ? containerName(provider.providerId, 'w-1') : listed.error.message;
}
`;

function diagnosticsText(diagnostics: readonly ts.Diagnostic[]): string {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => work,
    getNewLine: () => '\n',
  });
}

describe('the published declarations', () => {
  it('compile for a consumer with skipLibCheck: false', () => {
    const config = ts.getParsedCommandLineOfConfigFile(
      join(packageDir, 'tsconfig.build.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
    );
    if (config === undefined) throw new Error('tsconfig.build.json could not be read');
    const dist = join(work, 'dist');
    const emitted = ts
      .createProgram(config.fileNames, {
        ...config.options,
        outDir: dist,
        declaration: true,
        emitDeclarationOnly: true,
        // The package's own typecheck covers its sources; here only what a consumer sees.
        noCheck: true,
        declarationMap: false,
        sourceMap: false,
      })
      .emit();
    expect(diagnosticsText(emitted.diagnostics)).toBe('');

    const consumer = join(work, 'consumer.ts');
    writeFileSync(consumer, CONSUMER);
    const program = ts.createProgram([consumer], {
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
      paths: {
        '@hodei/docker-adapter': [join(dist, 'index.d.ts')],
        '@hodei/docker-adapter/testing': [join(dist, 'testing', 'index.d.ts')],
      },
    });
    expect(diagnosticsText(ts.getPreEmitDiagnostics(program))).toBe('');
  }, 120_000);
});
