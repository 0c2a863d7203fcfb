/**
 * The demo in live mode: the built demo page, given two Node peers (peer CLI processes) in
 * `?bootstrap=`, joins their cluster as an owner and shows the real ring: its members table, the ring
 * drawn from the node's state, and a put and a get from the request form with the replicas that
 * answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type NodePeer, startNodePeer } from './fixtures/mesh-node-peers.ts'
import { type BuiltPage, buildPage } from './fixtures/page-build.ts'
import { type BrowserHarness, type PeerPage, startBrowserHarness } from './harness.ts'

/** The cluster name the demo joins by default. */
const cluster = 'solar-orbit'

describe('demo, live mode', () => {
  let built: BuiltPage
  let harness: BrowserHarness
  const nodes: NodePeer[] = []
  let peer: PeerPage

  beforeAll(async () => {
    const [page, first] = await Promise.all([
      buildPage('demo/index.html'),
      startNodePeer({ cluster }),
    ])
    built = page
    nodes.push(first)
    nodes.push(await startNodePeer({ cluster, join: [first.wsAddr] }))
    harness = await startBrowserHarness()
    const bootstrap = encodeURIComponent(nodes.map((n) => n.wsAddr).join(','))
    peer = await harness.newPeerPage(`${built.path}?bootstrap=${bootstrap}`)
  }, 90_000)

  afterAll(async () => {
    await harness?.close()
    await Promise.allSettled(nodes.map((n) => n.stop()))
    await built?.remove()
  })

  /** The members table as [member, runs in, role, status] rows. */
  async function members(): Promise<string[][]> {
    return peer.page.$$eval('#members tbody tr', (rows) =>
      rows.map((row) => {
        const cells = [...row.querySelectorAll('td')].map((td) => td.textContent ?? '')
        return [cells[1]!, cells[2]!, cells[3]!, cells[4]!]
      }),
    )
  }

  it('joins the cluster and shows its three members and the ring', async () => {
    await peer.page.waitForFunction(
      () => document.querySelector('#self')?.textContent?.startsWith('This tab is'),
      undefined,
      { timeout: 30_000 },
    )
    await peer.page.waitForFunction(
      () =>
        [...document.querySelectorAll('#members tbody tr')].filter((r) =>
          r.textContent?.includes('valid'),
        ).length === 3 &&
        document.querySelector('#ring text')?.textContent === '0 transfers pending',
      undefined,
      { timeout: 45_000, polling: 250 },
    )
    const rows = await members()
    expect(rows.map(([, runsIn]) => runsIn).sort()).toEqual(['browser', 'node', 'node'])
    expect(rows.find(([id]) => id!.endsWith('(this tab)'))?.slice(1)).toEqual([
      'browser',
      'owner',
      'valid',
    ])
    expect(await peer.page.locator('#ring path').count()).toBe(64)
  })

  it('puts and gets a key from the form, naming the replicas that answered', async () => {
    await peer.page.fill('#key', 'live-key')
    await peer.page.fill('#value', 'live value')
    await peer.page.click('#put')
    await peer.page.waitForFunction(
      () => document.querySelectorAll('#requests li[data-done]').length === 1,
    )
    const put = (await peer.page.textContent('#requests li')) ?? ''
    expect(put).toMatch(/^put demo\/live-key in [\d.]+ ms; answered: .*primary p\d+/)
    await peer.page.click('#get')
    await peer.page.waitForFunction(
      () => document.querySelectorAll('#requests li[data-done]').length === 2,
    )
    const get = (await peer.page.textContent('#requests li')) ?? ''
    expect(get).toMatch(/^get demo\/live-key → "live value" in [\d.]+ ms; answered: /)
    expect(peer.errors).toEqual([])
  })
})
