import { readFile } from 'node:fs/promises'
import type { Plugin } from 'vite'
import { defineConfig } from 'vitest/config'

/**
 * Serves `.tmp/local-cluster.json` (written by `src/cli/local-cluster.ts` when `npm start` launches a
 * local cluster) at `/local-cluster.json`, so the demo page finds the cluster's Node peers and joins
 * it in live mode; `{"peers":[]}` when no local cluster runs, and the page falls back to its in-page
 * cluster. Read on every request, so a cluster started after the dev server is still found. The
 * page asks only when its HTML carries the `solar-orbit:local-cluster` meta tag this plugin adds,
 * so other servers of the page (a static build, the e2e harness) do not answer 404s to it.
 */
const localCluster: Plugin = {
  name: 'solar-orbit:local-cluster',
  apply: 'serve',
  configureServer(server) {
    server.middlewares.use('/local-cluster.json', (_request, response) => {
      response.setHeader('content-type', 'application/json')
      response.setHeader('cache-control', 'no-store')
      readFile(new URL('.tmp/local-cluster.json', import.meta.url), 'utf8').then(
        (text) => response.end(text),
        () => response.end('{"peers":[]}'),
      )
    })
  },
  transformIndexHtml: () => [
    {
      tag: 'meta',
      attrs: { name: 'solar-orbit:local-cluster', content: '/local-cluster.json' },
      injectTo: 'head',
    },
  ],
}

/** Suites that start processes, browsers or real sockets: one file at a time, after the rest. */
const slowSuites = [
  'test/e2e/**/*.test.ts',
  'test/integration/**/*.test.ts',
  'test/package/**/*.test.ts',
  'test/storage/fs-crash.test.ts',
  'test/storage/fs-deno.test.ts',
]

/**
 * One config for the demo app (Vite serves and builds `demo/`) and for Vitest (tests in `test/`).
 * The dev server listens on loopback only. Tests run in two groups: the pure, fast suites in
 * parallel, then the suites with real processes and browsers one file at a time, so a two-core
 * machine never starves a WebRTC handshake or a crash test of CPU.
 */
export default defineConfig({
  root: 'demo',
  plugins: [localCluster],
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2023',
    // The live mode's chunk carries libp2p (about 770 kB, 220 kB gzipped); the page loads it only
    // when a local cluster runs, so the in-page demo stays small.
    chunkSizeWarningLimit: 1000,
  },
  test: {
    root: import.meta.dirname,
    setupFiles: ['test/support/fast-check-seed.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: slowSuites,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          include: slowSuites,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          // Real browsers, WebRTC and processes: a failed test runs up to twice more, and Vitest
          // reports every retry, so a flaky path stays visible without one bad ICE check failing CI.
          retry: 2,
        },
      },
    ],
  },
})
