import { execFile } from 'node:child_process';
import { access, constants, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatConfigProblems, parseConfig } from '../config/config.js';
import {
  allCodeBlocks,
  REPOSITORY_ROOT,
  shellCommands,
  typeCheck,
  type CodeBlock,
} from './readme-code-blocks.js';

const SERVER_DIR = join(REPOSITORY_ROOT, 'apps', 'server');
const CLI = join(SERVER_DIR, 'dist', 'cli.js');
const run = promisify(execFile);

const isTypeScript = (b: CodeBlock) => ['ts', 'typescript'].includes(b.lang);
const isShell = (b: CodeBlock) => ['sh', 'bash', 'shell'].includes(b.lang);
const where = (b: CodeBlock) => `${b.file}:${b.line}`;

let blocks: CodeBlock[] = [];
beforeAll(async () => {
  blocks = await allCodeBlocks();
});

describe('every TypeScript block of a README', () => {
  let dir = '';
  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('compiles against the packages as a library user gets them (strict, lib check on)', async () => {
    const ts = blocks.filter(isTypeScript);
    expect(ts.length).toBeGreaterThanOrEqual(5);
    // Inside the server package, so that `@hodei/*` resolve to the built packages.
    dir = await mkdtemp(join(SERVER_DIR, '.readme-blocks-'));
    const names = ts.map((b) => `${b.file.replace(/[/.]/g, '_')}_L${b.line}.ts`);
    await Promise.all(
      ts.map((b, i) => writeFile(join(dir, names[i] ?? ''), `${b.code}\nexport {};\n`)),
    );
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          strict: true,
          noEmit: true,
          // What a library user with a strict setup sees: every .d.ts we publish is checked.
          skipLibCheck: false,
        },
        files: names,
      }),
    );
    const diagnostics = await typeCheck(join(dir, 'tsconfig.json'));
    // `<name>.ts(<n>,<col>)` is line fence + n of the README.
    const located = diagnostics.replace(
      /([\w-]+\.ts)\((\d+),\d+\)/g,
      (match, name: string, line: string) => {
        const block = ts[names.indexOf(name)];
        return block === undefined ? match : `${block.file}:${block.line + Number(line)}`;
      },
    );
    expect(located).toBe('');
  });
});

describe('every YAML block of a README', () => {
  it('is a configuration file the server accepts', async () => {
    const yaml = blocks.filter((b) => ['yaml', 'yml'].includes(b.lang));
    expect(yaml.length).toBeGreaterThanOrEqual(1);
    const dir = await mkdtemp(join(tmpdir(), 'hodei-readme-yaml-'));
    try {
      for (const block of yaml) {
        const file = join(dir, 'hodei.yaml');
        await writeFile(file, block.code);
        const parsed = parseConfig({ HODEI_CONFIG_FILE: file });
        expect(parsed.isOk() ? '' : formatConfigProblems(parsed.error), where(block)).toBe('');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('every shell block of a README', () => {
  it('names scripts, files and hodei commands that exist', async () => {
    const rootScripts = await scriptsOf(REPOSITORY_ROOT);
    const problems: string[] = [];
    let checked = 0;
    for (const block of blocks.filter(isShell)) {
      for (const command of shellCommands(block.code)) {
        const problem = await checkCommand(command, rootScripts);
        if (problem === undefined) continue;
        checked += 1;
        if (problem !== '') problems.push(`${where(block)}: ${command}: ${problem}`);
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });
});

async function scriptsOf(dir: string): Promise<Record<string, string>> {
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  return manifest.scripts ?? {};
}

const PNPM_BUILTINS = new Set(['install', 'exec', 'add', 'run']);
const PACKAGE_DIRS: Record<string, string> = {
  '@hodei/domain': 'packages/domain',
  '@hodei/docker-adapter': 'packages/docker-adapter',
  '@hodei/k8s-stub-adapter': 'packages/k8s-stub-adapter',
  '@hodei/postgres-event-bus': 'packages/postgres-event-bus',
  '@hodei/logger-publisher': 'packages/logger-publisher',
  '@hodei/server': 'apps/server',
};

/** '' when it holds, a problem, or undefined for a command this check does not know. */
async function checkCommand(
  command: string,
  rootScripts: Record<string, string>,
): Promise<string | undefined> {
  const words = command.split(/\s+/);
  const [first, second, third, fourth] = words;
  if (first?.startsWith('./scripts/') === true || first?.startsWith('scripts/') === true) {
    return access(join(REPOSITORY_ROOT, first), constants.X_OK).then(
      () => '',
      () => 'no such executable script',
    );
  }
  if (first !== 'pnpm' || second === undefined) return undefined;
  if (second === 'hodei') return checkHodei(words.slice(2));
  if (second === '--filter' && third !== undefined && fourth !== undefined) {
    const dir = PACKAGE_DIRS[third];
    if (dir === undefined) return `unknown package ${third}`;
    if (fourth === 'exec') return '';
    return fourth in (await scriptsOf(join(REPOSITORY_ROOT, dir))) ? '' : `no script ${fourth}`;
  }
  if (PNPM_BUILTINS.has(second)) return '';
  return second in rootScripts ? '' : `no root script ${second}`;
}

/** `hodei <subcommand…> --help` must answer 0: the CLI knows the command. */
async function checkHodei(args: readonly string[]): Promise<string> {
  const path: string[] = [];
  for (const a of args) {
    if (!/^[a-z][a-z-]*$/.test(a)) break;
    path.push(a);
  }
  try {
    await run(process.execPath, [CLI, ...path, '--help'], { timeout: 20_000 });
    return '';
  } catch (cause) {
    return `hodei ${path.join(' ')} --help failed: ${(cause as Error).message}`;
  }
}
