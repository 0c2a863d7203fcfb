/**
 * The IndexedDB backend in real Chromium: every storage compliance case runs in a page; acknowledged
 * writes survive a page reload, durable ones a browser crash. Each peer gets its own BrowserContext.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { complianceCases } from '../storage/compliance-cases.ts'
import { type BrowserHarness, type PeerPage, startBrowserHarness } from './harness.ts'

const page = '/test/e2e/fixtures/storage.html'

describe('IndexedDB storage in Chromium', () => {
  let harness: BrowserHarness
  let peer: PeerPage

  beforeAll(async () => {
    harness = await startBrowserHarness()
    peer = await harness.newPeerPage(page)
  })

  afterAll(async () => {
    await harness?.close()
  })

  describe('compliance', () => {
    for (const c of complianceCases) {
      it(c.name, async () => {
        const failure = await peer.page.evaluate(
          (name) => window.storageChecks.runCase(name),
          c.name,
        )
        expect(failure).toBeUndefined()
      })
    }
  })

  it.each([true, false])(
    'keeps acknowledged writes across a page reload (durable %s)',
    async (durable) => {
      const db = `reload-${durable}`
      await peer.page.evaluate(([name, d]) => window.storageChecks.write(name, 300, d), [
        db,
        durable,
      ] as const)
      await peer.page.reload({ waitUntil: 'load' })
      const read = await peer.page.evaluate((name) => window.storageChecks.read(name), db)
      expect(read).toHaveLength(300)
      expect(read).toContainEqual(['k0', 'v0'])
      expect(read).toContainEqual(['k299', 'v299'])
    },
  )

  it('keeps durable writes across a browser crash (SIGKILL)', async () => {
    const first = await harness.newPersistentPeer(page)
    await first.page.evaluate(() => window.storageChecks.write('crash', 500, true))
    await first.crash()
    const again = await harness.newPersistentPeer(page, first.profileDir)
    const read = await again.page.evaluate(() => window.storageChecks.read('crash'))
    expect(read).toHaveLength(500)
    expect(read).toContainEqual(['k499', 'v499'])
    await again.close()
  })

  it('gives each peer its own IndexedDB', async () => {
    const other = await harness.newPeerPage(page)
    await peer.page.evaluate(() => window.storageChecks.write('isolated', 3, true))
    expect(await other.page.evaluate(() => window.storageChecks.read('isolated'))).toEqual([])
    expect(await peer.page.evaluate(() => window.storageChecks.read('isolated'))).toHaveLength(3)
    await other.close()
  })

  it('raised no page errors', () => {
    expect(peer.errors).toEqual([])
  })
})
