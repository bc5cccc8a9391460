import { defineConfig } from 'vitest/config';

/** Unit tests of the pure logic under src/lib (Node, no DOM); the browser tests are the server's. */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
