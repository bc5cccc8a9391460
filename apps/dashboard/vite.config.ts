import { defineConfig } from 'vite';

/**
 * The dashboard is served by the server at /ui under a CSP of `script-src 'self'; style-src
 * 'self'`: no inline script or style may be emitted, and nothing is fetched from elsewhere.
 */
export default defineConfig({
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The preload polyfill would be inlined into the page; every browser we target has it.
    modulePreload: { polyfill: false },
    // Small assets are inlined as data: URLs by default; keep every asset a file of its own.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
