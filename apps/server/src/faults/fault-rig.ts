import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { ChurnReport } from './churn.js';
import { startFaultServer, type FaultServer, type FaultServerOptions } from './fault-server.js';
import {
  startPrivateDockerEngine,
  startPrivatePostgres,
  sweepFaultLeftovers,
  type PrivateDockerEngine,
  type PrivatePostgres,
} from './fault-services.js';
import { checkInvariants, createDecoys, type Decoys, type InvariantReport } from './invariants.js';

/** One scenario's world: a private engine and cluster, decoys on the engine, a fault server. */
export interface FaultRig {
  readonly engine: PrivateDockerEngine;
  readonly postgres: PrivatePostgres;
  readonly server: FaultServer;
  readonly decoys: Decoys;
  readonly dataDir: string;
  /** Runs the checker on this rig's engine, server and log. */
  check(scenario: string, churn: ChurnReport | readonly ChurnReport[]): Promise<InvariantReport>;
  /** Stops everything it started, whatever state it is in; safe to call twice. */
  teardown(): Promise<void>;
}

export interface FaultRigOptions {
  /** The data dir; default a fresh temporary one (removed at teardown). */
  readonly dataDir?: string;
  readonly env?: FaultServerOptions['env'];
}

/** Starts a rig; if a part fails to start, what did start is stopped before the error. */
export async function startFaultRig(o: FaultRigOptions = {}): Promise<FaultRig> {
  const stops: (() => Promise<void>)[] = [];
  const teardown = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  };
  try {
    await sweepFaultLeftovers();
    const engine = await startPrivateDockerEngine();
    stops.push(() => engine.stop());
    const postgres = await startPrivatePostgres();
    stops.push(() => postgres.stop());
    const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'hodei-fault-')));
    if (o.dataDir === undefined) stops.push(() => rm(dataDir, { recursive: true, force: true }));
    const decoys = await createDecoys(engine);
    const server = await startFaultServer({
      dockerHost: engine.dockerHost,
      image: engine.image,
      databaseUrl: postgres.url,
      dataDir,
      ...(o.env === undefined ? {} : { env: o.env }),
    });
    stops.push(async () => {
      await server.stop();
      await server.kill9();
    });
    return {
      engine,
      postgres,
      server,
      decoys,
      dataDir,
      check: (scenario, churn) =>
        checkInvariants({
          engine,
          server,
          databaseUrl: postgres.url,
          providerId: server.providerId,
          decoys,
          churn,
          scenario,
        }),
      teardown,
    };
  } catch (cause) {
    await teardown();
    throw cause;
  }
}

/**
 * Gives the enclosing describe one rig: started before its tests, torn down after them, with
 * the scenario's wall time logged as `<name>: N s`. Returns the rig's getter for the tests.
 */
export function useFaultRig(name: string): () => FaultRig {
  let rig: FaultRig | undefined;
  const t0 = Date.now();
  beforeAll(async () => {
    rig = await startFaultRig();
  }, 120_000);
  afterAll(async () => {
    await rig?.teardown();
    console.log(`${name}: ${Math.round((Date.now() - t0) / 1000)} s`);
  }, 120_000);
  return () => {
    if (rig === undefined) throw new Error(`${name}: the fault rig did not start`);
    return rig;
  };
}
