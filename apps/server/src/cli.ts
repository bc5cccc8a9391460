#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { dockerHello } from './cli/docker-hello.js';
import { DEFAULT_WORKER_IMAGE, formatConfigProblems, parseConfig } from './config/config.js';
import { createServer } from './composition/create-server.js';
import { doctor } from './doctor.js';

const usage = `usage: hodei <command> [options]

commands:
  serve                         run the server (configuration: HODEI_* variables, see README)
  job docker-hello              run one job worker through its whole lifecycle and check it
  gc [--url URL]                run a deadline pass and a reconciliation now
  workers ls [--url URL] [--state S] [--provider ID]
  workers rm ID [--wait] [--url URL]
  workers logs ID [--follow] [--url URL]
  doctor                        report the Docker Engine and PostgreSQL this machine reaches

Client commands use --url (default http://HODEI_HTTP_HOST:HODEI_HTTP_PORT) and the token in
HODEI_API_TOKEN or $HODEI_DATA_DIR/api-token.`;

const SHUTDOWN_DEADLINE_MS = 10_000;

async function serve(): Promise<number> {
  const config = parseConfig(process.env);
  if (config.isErr()) {
    console.error(`hodei: invalid configuration\n${formatConfigProblems(config.error)}`);
    return 2;
  }
  const server = await createServer(config.value);
  if (server.isErr()) {
    console.error(`hodei: cannot start: ${server.error.message}`);
    return 1;
  }
  const s = server.value;
  console.error(`hodei: listening on ${s.url}`);
  console.error(
    s.tokenFile === undefined
      ? 'hodei: API token from HODEI_API_TOKEN'
      : `hodei: API token in ${s.tokenFile}`,
  );
  return new Promise<number>((done) => {
    const stop = (signal: string) => {
      console.error(`hodei: ${signal}: shutting down`);
      const timer = setTimeout(() => {
        console.error(`hodei: shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting`);
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS);
      timer.unref();
      void s.stop().then(() => {
        console.error('hodei: stopped; workers keep running and are recovered at the next start');
        done(0);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

interface Client {
  readonly url: string;
  request(method: string, path: string): Promise<Response>;
}

async function client(urlOption: string | undefined): Promise<Client> {
  const host = process.env['HODEI_HTTP_HOST'] ?? '127.0.0.1';
  const port = process.env['HODEI_HTTP_PORT'] ?? '8080';
  const url = (urlOption ?? `http://${host}:${port}`).replace(/\/$/, '');
  let token = process.env['HODEI_API_TOKEN'];
  if (token === undefined) {
    const file = join(resolve(process.env['HODEI_DATA_DIR'] ?? './.hodei'), 'api-token');
    token = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (token === '')
      throw new Error(`no API token: set HODEI_API_TOKEN or run where ${file} exists`);
  }
  const bearer = token;
  return {
    url,
    request: (method, path) =>
      fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${bearer}` } }),
  };
}

async function printResponse(response: Response): Promise<number> {
  const text = await response.text();
  if (!response.ok) {
    console.error(`hodei: HTTP ${response.status}: ${text}`);
    return 1;
  }
  console.log(text);
  return 0;
}

async function workers(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      wait: { type: 'boolean' },
      follow: { type: 'boolean' },
      state: { type: 'string' },
      provider: { type: 'string' },
    },
  });
  const [sub, id] = positionals;
  const c = await client(values.url);
  switch (sub) {
    case 'ls': {
      const q = new URLSearchParams();
      if (values.state !== undefined) q.set('state', values.state);
      if (values.provider !== undefined) q.set('providerId', values.provider);
      q.set('limit', '1000');
      console.log(['ID', 'PROVIDER', 'MODE', 'STATE', 'CREATED', 'EXIT'].join('\t'));
      // Every page, following the cursor.
      for (;;) {
        const response = await c.request('GET', `/v1/workers?${q.toString()}`);
        if (!response.ok) return printResponse(response);
        const page = (await response.json()) as {
          items: {
            id: string;
            providerId: string;
            mode: string;
            state: string;
            createdAt: string;
            exitCode: number | null;
          }[];
          nextCursor: string | null;
        };
        for (const w of page.items) {
          console.log(
            [w.id, w.providerId, w.mode, w.state, w.createdAt, w.exitCode ?? ''].join('\t'),
          );
        }
        if (page.nextCursor === null) return 0;
        q.set('cursor', page.nextCursor);
      }
    }
    case 'rm':
      if (id === undefined) break;
      return printResponse(
        await c.request(
          'DELETE',
          `/v1/workers/${encodeURIComponent(id)}${values.wait === true ? '?wait=true' : ''}`,
        ),
      );
    case 'logs': {
      if (id === undefined) break;
      const response = await c.request(
        'GET',
        `/v1/workers/${encodeURIComponent(id)}/logs${values.follow === true ? '?follow=true' : ''}`,
      );
      if (!response.ok || response.body === null) return printResponse(response);
      for await (const chunk of response.body as AsyncIterable<Uint8Array>)
        process.stdout.write(chunk);
      return 0;
    }
    default:
      break;
  }
  console.error(`hodei: workers ls | rm ID | logs ID\n\n${usage}`);
  return 2;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve();
      case 'job':
        if (rest[0] === 'docker-hello') {
          return await dockerHello({
            dockerHost: process.env['DOCKER_HOST'],
            image: process.env['HODEI_WORKER_IMAGE'] ?? DEFAULT_WORKER_IMAGE,
            out: (line) => console.log(line),
          });
        }
        console.error(`hodei: unknown job ${JSON.stringify(rest[0] ?? '')}; known: docker-hello`);
        return 2;
      case 'gc': {
        const { values } = parseArgs({ args: rest, options: { url: { type: 'string' } } });
        return await printResponse(await (await client(values.url)).request('POST', '/v1/gc'));
      }
      case 'workers':
        return await workers(rest);
      case 'doctor': {
        const report = await doctor(process.env);
        for (const line of report.lines) console.log(line);
        return report.ok ? 0 : 1;
      }
      case undefined:
      case '-h':
      case '--help':
        console.log(usage);
        return command === undefined ? 2 : 0;
      default:
        console.error(`hodei: unknown command '${command}'\n\n${usage}`);
        return 2;
    }
  } catch (cause) {
    console.error(`hodei: ${(cause as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
