import { defineConfig } from 'vitest/config'

/**
 * One Vite config for the demo app (`demo/`) and for Vitest.
 * Tests live in `test/`; the slow suites (integration, e2e) run in their own files with longer timeouts.
 */
export default defineConfig({
  root: '.',
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
