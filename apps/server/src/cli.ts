#!/usr/bin/env node
import { processIo } from './cli/cli-io.js';
import { defaultDeps } from './cli/default-deps.js';
import { runCli } from './cli/program.js';

// `hodei … | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
});

const io = processIo();
const code = await runCli(process.argv.slice(2), io, defaultDeps(io));
process.exitCode = code;
// Exit once stdout and stderr are flushed: an idle keep-alive socket of fetch would hold the
// process up for seconds otherwise.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
