#!/usr/bin/env node
import { doctor } from './doctor.js';

const usage = `usage: hodei <command>

commands:
  doctor    report the Docker Engine and PostgreSQL this machine reaches`;

async function main(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
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
}

process.exitCode = await main(process.argv.slice(2));
