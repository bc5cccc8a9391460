import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, onSendHookHandler } from 'fastify';

/** The dashboard's routes; served without a token: the built files hold no secret. */
export const UI_ROUTES = ['/ui', '/ui/*'] as const;

/** Every /ui answer: nothing but this server's own files may run, frame or be fetched. */
export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Vite names what it puts under `assets/` by content hash: a new build, new names. */
const HASHED = 'public, max-age=31536000, immutable';
/** `index.html` and unhashed files: asked again each time, so a new build shows at once. */
const REVALIDATED = 'no-cache';

/**
 * The built `@hodei/dashboard` (its `dist/`), found the way Node resolves the dependency;
 * undefined when the package is not installed.
 */
export function dashboardDistDir(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve('@hodei/dashboard/package.json');
    return join(dirname(manifest), 'dist');
  } catch {
    return undefined;
  }
}

const isFile = async (path: string): Promise<boolean> => {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
};

/**
 * The file under `dir` that `rest` (the path after `/ui/`, decoded by the router) names, or
 * undefined when it names none: outside `dir`, a dot file, or no such file.
 */
async function fileOf(dir: string, rest: string): Promise<string | undefined> {
  if (rest === '' || rest.includes('\0')) return undefined;
  if (rest.split('/').some((segment) => segment.startsWith('.'))) return undefined;
  const path = resolve(dir, rest);
  if (!path.startsWith(dir + sep)) return undefined;
  return (await isFile(path)) ? path.slice(dir.length + 1) : undefined;
}

/**
 * Whether a path with no file is one of the app's pages, answered with `index.html`: not under
 * `assets/` and with no extension. A missing script or style gets a 404, never HTML the
 * browser would refuse with a MIME error that hides the real fault (a stale page after a build).
 */
const routeLike = (rest: string): boolean => {
  if (rest === 'assets' || rest.startsWith('assets/')) return false;
  const last = rest.split('/').at(-1) ?? '';
  return !last.includes('.');
};

const securityHeaders: onSendHookHandler = (_request, reply, payload, done) => {
  void reply.headers(UI_SECURITY_HEADERS);
  done(null, payload);
};

/**
 * `/ui`: the dashboard, a single-page app. A path naming a built file gets it; a page-like
 * path (no extension, not under `assets/`) gets `index.html`, whose hash routing takes it from
 * there; anything else 404. Without a build (`dir` undefined or
 * no `index.html` in it), 404 naming `pnpm build`: the server runs without its dashboard.
 */
export async function registerUiRoutes(
  app: FastifyInstance,
  dir: string | undefined,
): Promise<void> {
  const root = dir === undefined ? undefined : resolve(dir);
  // Only `reply.sendFile`, given the root each time: the routes are these two, so every path
  // goes through `fileOf`, and a folder built after the start is found.
  await app.register(fastifyStatic, { serve: false });
  const answer = async (rest: string, reply: FastifyReply): Promise<FastifyReply> => {
    if (root === undefined || !(await isFile(join(root, 'index.html'))))
      return reply.code(404).send({
        error: 'DashboardNotBuilt',
        message: 'the dashboard is not built: run `pnpm build` (it builds apps/dashboard)',
      });
    const file = await fileOf(root, rest);
    if (file === undefined && !routeLike(rest))
      return reply.code(404).send({
        error: 'NotFound',
        message: `the dashboard has no file ${rest}`,
      });
    const sent = file ?? 'index.html';
    void reply.header(
      'cache-control',
      file !== undefined && file.startsWith(`assets${sep}`) ? HASHED : REVALIDATED,
    );
    return reply.sendFile(sent, root, { cacheControl: false, dotfiles: 'deny' });
  };
  const options = { schema: { hide: true }, onSend: securityHeaders };
  app.get('/ui', options, async (_request, reply) => answer('', reply));
  app.get('/ui/*', options, async (request, reply) =>
    answer((request.params as { '*'?: string })['*'] ?? '', reply),
  );
}
