/**
 * Keys land on the same partition everywhere: MurmurHash3 positions computed under Node, Deno and
 * Chromium agree bit for bit (the ring is shared by peers of all three runtimes).
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { startBrowserHarness } from '../e2e/harness.ts'
import { hashVectors } from './hash-vectors.ts'

const repoRoot = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

describe('key hashing across runtimes', () => {
  const expected = hashVectors()

  it('spreads the inputs over distinct positions', () => {
    expect(new Set(expected.map(([position]) => position)).size).toBe(expected.length)
  })

  it('gives the same positions under Deno', async () => {
    const { stdout } = await run(
      `${repoRoot}node_modules/.bin/deno`,
      ['run', '--no-prompt', `${repoRoot}test/integration/hash-deno.ts`],
      { env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' }, timeout: 60_000 },
    )
    expect(JSON.parse(stdout)).toEqual(expected)
  })

  it('gives the same positions in Chromium', async () => {
    const harness = await startBrowserHarness()
    try {
      const peer = await harness.newPeerPage('/demo/index.html')
      // A string, so Vitest's transform leaves the page's dynamic import alone.
      const actual = await peer.page.evaluate(
        'import("/test/integration/hash-vectors.ts").then((m) => m.hashVectors())',
      )
      expect(actual).toEqual(expected)
    } finally {
      await harness.close()
    }
  })
})
