import { defineConfig } from 'vitest/config';

/**
 * The fault suite (issue 11): each file starts its own Docker Engine, PostgreSQL cluster and
 * server and then crashes them, so files run one after another, never side by side, with
 * timeouts that fit a scenario's churn and recovery.
 */
export default defineConfig({
  test: {
    include: ['src/faults/**/*.fault.test.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 180_000,
  },
});
