import { simulateCommand as domainSimulateCommand } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { simulateCommand } from './simulated-command.js';

describe('simulateCommand (copy of the domain testing helper)', () => {
  it('reads commands exactly as the domain’s helper does', () => {
    const commands: (string[] | undefined)[] = [
      undefined,
      [],
      ['sh', '-c', 'echo hello; sleep 2; exit 3'],
      ['sh', '-c', "echo 'quoted' && sleep 0.5"],
      ['sleep', 'infinity'],
      ['sleep', '3600'],
      ['/bin/sh', '-c', 'true; exit'],
      ['node', 'server.js'],
    ];
    for (const command of commands)
      expect(simulateCommand(command)).toEqual(domainSimulateCommand(command));
  });
});
