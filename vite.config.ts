import { defineConfig } from 'vitest/config'

/**
 * One config for the demo app (Vite serves and builds `demo/`) and for Vitest (tests in `test/`).
 * The dev server listens on loopback only.
 */
export default defineConfig({
  root: 'demo',
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { outDir: '../dist/demo', emptyOutDir: true, target: 'es2023' },
  test: {
    root: import.meta.dirname,
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/support/fast-check-seed.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
