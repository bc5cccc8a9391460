import { silentLogger } from '@hodei/domain';
import { lifecycleHarness, type LifecycleHarness } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { RecoveryGate } from '../passes/recovery-gate.js';
import type { ProviderEntry } from '../workers/provider-entry.js';
import { ActingGate } from './acting-gate.js';
import { actOnlyWithLocks } from './lock-loss.js';
import type { ProviderLocks } from './provider-locks.js';
import type { ProviderWatches } from './provider-watches.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Polls `check` every 5 ms for at most `timeoutMs`; whether it came true. */
async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!check() && Date.now() < end) await tick();
  return check();
}

interface Rig {
  readonly h: LifecycleHarness;
  readonly gate: ActingGate;
  readonly recovery: RecoveryGate;
  /** Says the provider locks were lost (`false`) or taken again (`true`). */
  readonly tell: (held: boolean) => void;
}

/** A recovered provider on the fakes, its locks' changes told by hand. */
async function rig(): Promise<Rig> {
  const h = lifecycleHarness({ providerId: 'fake' });
  const gate = new ActingGate();
  const recovery = new RecoveryGate('fake', h.manager, silentLogger, () =>
    gate.actingBut('recovering'),
  );
  const entry: ProviderEntry = {
    id: h.manager.providerId,
    kind: 'docker',
    provider: h.provider,
    policy: h.policy,
    lifecycle: { manager: h.manager, managed: h.managed, recovery },
  };
  expect(await recovery.ensure()).toBe(true);
  let listener: (held: boolean) => void = () => undefined;
  const locks = {
    onChange: (l: (held: boolean) => void) => {
      listener = l;
    },
  } as unknown as ProviderLocks;
  const watches = { start: () => undefined, close: () => undefined } as unknown as ProviderWatches;
  actOnlyWithLocks({ locks, gate, providers: [entry], watches, logger: silentLogger });
  return { h, gate, recovery, tell: (held) => listener(held) };
}

describe('acting only with the provider locks', () => {
  it('stays closed while the recovery after the locks came back fails, and opens once it succeeds', async () => {
    const { h, gate, recovery, tell } = await rig();
    tell(false);
    h.provider.failNext('listManagedWorkers'); // its engine hiccups as the locks come back
    tell(true);
    expect(await eventually(() => recovery.lastError !== undefined)).toBe(true);
    for (let i = 0; i < 10; i += 1) await tick();
    expect(gate.acting).toBe(false);
    expect(gate.why).toBe('recovering');
    // Tried again with a backoff: once a recovery succeeds, the server acts again.
    expect(await eventually(() => gate.acting)).toBe(true);
    expect(recovery.recovered).toBe(true);
  });

  it('recovers anew when the locks are lost again while the recovery after their return runs', async () => {
    const { h, gate, recovery, tell } = await rig();
    tell(false);
    h.provider.holdNext('listManagedWorkers');
    tell(true); // recovery starts; its listing is slow
    expect(await eventually(() => h.provider.held.length === 1)).toBe(true);
    tell(false); // lost again: another server may act after that listing
    await h.provider.releaseAll();
    for (let i = 0; i < 20; i += 1) await tick();
    expect(recovery.recovered).toBe(false);
    const listingsBefore = h.provider.calls.listManagedWorkers;
    tell(true);
    expect(await eventually(() => gate.acting)).toBe(true);
    expect(h.provider.calls.listManagedWorkers).toBeGreaterThan(listingsBefore);
  });
});
