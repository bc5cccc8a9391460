import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';

describe('HODEI_MAX_LIFETIME_SECONDS', () => {
  it('is no cap by default (the policy maximum of 30 days holds)', () => {
    expect(parseConfig({})._unsafeUnwrap().maxLifetimeCapMs).toBeUndefined();
  });

  it('reads whole seconds, as milliseconds', () => {
    expect(
      parseConfig({ HODEI_MAX_LIFETIME_SECONDS: '7200' })._unsafeUnwrap().maxLifetimeCapMs,
    ).toBe(7_200_000);
  });

  it('names itself and what it accepts when invalid', () => {
    for (const value of ['0', '2h', '2592001']) {
      const problems = parseConfig({ HODEI_MAX_LIFETIME_SECONDS: value })._unsafeUnwrapErr();
      expect(problems).toEqual([
        {
          variable: 'HODEI_MAX_LIFETIME_SECONDS',
          value,
          accepts: 'whole seconds from 1 to 2592000 (30 days)',
        },
      ]);
    }
  });

  it('is read from the configuration file as maxLifetimeSeconds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hodei-cap-'));
    const file = join(dir, 'hodei.yaml');
    await writeFile(file, 'maxLifetimeSeconds: 3600\n');
    const config = parseConfig({ HODEI_CONFIG_FILE: file })._unsafeUnwrap();
    expect(config.maxLifetimeCapMs).toBe(3_600_000);
    // The variable wins over the file.
    expect(
      parseConfig({ HODEI_CONFIG_FILE: file, HODEI_MAX_LIFETIME_SECONDS: '60' })._unsafeUnwrap()
        .maxLifetimeCapMs,
    ).toBe(60_000);
  });
});
