/**
 * The demo page in real Chromium: it starts a four-owner cluster, and a join and a leave go through
 * plan, commit and the transfers as an operator would click them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrowserHarness, type PeerPage, startBrowserHarness } from './harness.ts'

let harness: BrowserHarness
let peer: PeerPage

beforeAll(async () => {
  harness = await startBrowserHarness()
  peer = await harness.newPeerPage('/demo/index.html')
})

afterAll(async () => {
  await harness?.close()
})

/** The members table as [member, status, owned] rows. */
async function members(): Promise<string[][]> {
  return peer.page.$$eval('#members tbody tr', (rows) =>
    rows.map((row) => {
      const cells = [...row.querySelectorAll('td')].map((td) => td.textContent ?? '')
      return [cells[1]!, cells[3]!, cells[4]!]
    }),
  )
}

async function transfersSettled(): Promise<void> {
  await peer.page.waitForFunction(
    () => document.querySelector('#ring text')?.textContent === '0 transfers pending',
    undefined,
    { timeout: 20_000 },
  )
}

describe('demo', () => {
  it('starts with four owners sharing 64 partitions', async () => {
    await transfersSettled()
    expect(await members()).toEqual([
      ['owner-1', 'valid', '16'],
      ['owner-2', 'valid', '16'],
      ['owner-3', 'valid', '16'],
      ['owner-4', 'valid', '16'],
    ])
    expect(await peer.page.locator('#ring path').count()).toBe(64)
  })

  it('plans and commits a join, then the transfers complete', async () => {
    await peer.page.click('#add-owner')
    await peer.page.click('#plan')
    const report = (await peer.page.textContent('#report')) ?? ''
    expect(report).toContain('moves: 12')
    expect(report).toContain('violations: spacing 0')
    await peer.page.click('#commit')
    await transfersSettled()
    const owned = (await members()).map(([, , n]) => Number(n))
    expect(owned.reduce((a, b) => a + b, 0)).toBe(64)
    expect(Math.max(...owned) - Math.min(...owned)).toBeLessThanOrEqual(1)
  })

  it('lets a member leave in one transition', async () => {
    await peer.page.locator('#members tbody tr', { hasText: 'owner-2' }).getByText('leave').click()
    await peer.page.click('#plan')
    expect(await peer.page.textContent('#report')).toContain('transitions: 1')
    await peer.page.click('#commit')
    await transfersSettled()
    const rows = await members()
    expect(rows.find(([id]) => id === 'owner-2')).toEqual(['owner-2', 'exiting', '0'])
    expect(peer.errors).toEqual([])
  })
})
