import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The fault suite runs on its own, one file at a time: vitest.faults.config.ts.
    exclude: [...configDefaults.exclude, 'src/faults/**/*.fault.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
