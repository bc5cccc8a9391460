import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

/** The repository's root, from this file's place in apps/server/src/docs (or dist/docs). */
export const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..', '..', '..');

export interface CodeBlock {
  /** The README, relative to the repository's root. */
  readonly file: string;
  /** The line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
}

/** The README of the repository and of each package and app. */
export async function readmeFiles(root = REPOSITORY_ROOT): Promise<string[]> {
  const files = [join(root, 'README.md')];
  for (const group of ['packages', 'apps']) {
    for (const entry of await readdir(join(root, group), { withFileTypes: true })) {
      if (entry.isDirectory()) files.push(join(root, group, entry.name, 'README.md'));
    }
  }
  const present = await Promise.all(
    files.map((f) =>
      readFile(f).then(
        () => f,
        () => undefined,
      ),
    ),
  );
  return present.filter((f): f is string => f !== undefined);
}

/** Fenced code blocks (CommonMark backtick fences, not indented) with their info string. */
export function codeBlocks(file: string, text: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^(`{3,})\s*([\w-]*)/.exec(lines[i] ?? '');
    if (open === null) continue;
    const fence = open[1] ?? '```';
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !(lines[i] ?? '').startsWith(fence); i += 1) {
      body.push(lines[i] ?? '');
    }
    blocks.push({ file, line: start + 1, lang: open[2] ?? '', code: body.join('\n') });
  }
  return blocks;
}

export async function allCodeBlocks(root = REPOSITORY_ROOT): Promise<CodeBlock[]> {
  const blocks: CodeBlock[] = [];
  for (const file of await readmeFiles(root)) {
    blocks.push(...codeBlocks(relative(root, file), await readFile(file, 'utf8')));
  }
  return blocks;
}

/**
 * The commands a shell block runs, one per line: continuation lines joined, comments and
 * `export`/assignment-only lines dropped, `a && b` split.
 */
export function shellCommands(code: string): string[] {
  const joined = code.replace(/\\\n\s*/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => line.split(/\s*&&\s*/))
    .map((command) => command.replace(/^\w+=\S*\s+/, '').trim())
    .filter((command) => command !== '' && !/^\w+=/.test(command));
}

const run = promisify(execFile);

/** Runs `tsc` of this repository on a project; its diagnostics, or '' when it compiles. */
export async function typeCheck(projectFile: string): Promise<string> {
  const tsc = join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await run(process.execPath, [tsc, '-p', projectFile], { maxBuffer: 16 * 1024 * 1024 });
    return '';
  } catch (cause) {
    const e = cause as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
  }
}
