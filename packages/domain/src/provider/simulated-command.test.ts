import { describe, expect, it } from 'vitest';
import { simulateCommand } from './simulated-command.js';

describe('simulateCommand', () => {
  it.each([
    [undefined, { runMs: null, exitCode: 0, output: [] }],
    [[], { runMs: null, exitCode: 0, output: [] }],
    [['sh', '-c', 'echo hello; sleep 2; exit 3'], { runMs: 2000, exitCode: 3, output: ['hello'] }],
    [['sh', '-c', "echo 'quoted' && sleep 0.5"], { runMs: 500, exitCode: 0, output: ['quoted'] }],
    [['sleep', 'infinity'], { runMs: null, exitCode: 0, output: [] }],
    [['sleep', '3600'], { runMs: 3_600_000, exitCode: 0, output: [] }],
    [['/bin/sh', '-c', 'true; exit'], { runMs: 0, exitCode: 0, output: [] }],
    [
      ['echo', 'Hello', 'from', 'Docker', 'provider'],
      { runMs: 0, exitCode: 0, output: ['Hello from Docker provider'] },
    ],
    [['node', 'server.js'], { runMs: null, exitCode: 0, output: [] }],
  ])('reads %j', (command, expected) => {
    expect(simulateCommand(command)).toEqual(expected);
  });
});
