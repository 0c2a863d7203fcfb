/**
 * The Node entry and the peer CLI: `createNode({ dataDir })` alone is a running single-member cluster,
 * a joiner that no bootstrap peer answers does not start, and `src/cli/peer.ts` prints its addresses
 * as one JSON line, stops cleanly on SIGTERM, and is the same member when restarted on the same data
 * directory.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/index.ts'
import { UnreachableError } from '../../src/transport/index.ts'
import { eventually, killAll } from './_cluster-harness.ts'

const PEER_CLI = fileURLToPath(new URL('../../src/cli/peer.ts', import.meta.url))
const root = mkdtempSync(join(tmpdir(), 'solar-orbit-cli-'))

afterAll(async () => {
  await killAll()
  rmSync(root, { recursive: true, force: true })
})

describe('createNode', () => {
  it('runs a single-member cluster from a data directory alone', async () => {
    const node = await createNode({ dataDir: join(root, 'single'), autoClaim: { stableMs: 200 } })
    try {
      await eventually('the ring', async () => node.ring() !== undefined, 10_000)
      expect(new Set(node.ring()!.owners)).toEqual(new Set([node.id]))
      const done: string[] = []
      node.addEventListener('request:done', (e) => done.push(`${e.detail.op}:${e.detail.ok}`))
      await node.kv.put('b', 'k', new TextEncoder().encode('v'))
      const got = await node.kv.get('b', 'k')
      expect(got.values.map((v) => new TextDecoder().decode(v))).toEqual(['v'])
      expect(done).toEqual(['put:true', 'get:true'])
      expect(node.multiaddrs().some((a) => a.includes('/ws/'))).toBe(true)
    } finally {
      await node.stop()
    }
    const again = await createNode({ dataDir: join(root, 'single'), autoClaim: { stableMs: 200 } })
    try {
      expect(again.ring()).toBeDefined() // the saved state: no new claim needed
      const got = await again.kv.get('b', 'k')
      expect(got.values.map((v) => new TextDecoder().decode(v))).toEqual(['v'])
    } finally {
      await again.stop()
    }
  })

  it('refuses to start when no bootstrap peer answers, rather than claim a ring of its own', async () => {
    const gone = await createNode({ dataDir: join(root, 'gone'), storage: 'memory' })
    const address = gone.multiaddrs().find((a) => !a.includes('/ws/'))!
    await gone.stop()
    const lone = createNode({ dataDir: join(root, 'lone'), bootstrap: [address] })
    await expect(lone).rejects.toBeInstanceOf(UnreachableError)
    // Nothing was saved that a later start could take for a cluster of its own.
    expect(existsSync(join(root, 'lone', 'cluster-state.cbor'))).toBe(false)
  })
})

describe('the peer CLI', () => {
  const run = async (dataDir: string) => {
    const child = spawn(process.execPath, [PEER_CLI, '--data-dir', dataDir, '--memory'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout! }).once('line', resolve),
    )
    return { child, exited, hello: JSON.parse(line) as { id: string; addrs: string[] } }
  }

  it('prints its addresses, stops cleanly on SIGTERM and keeps its identity', async () => {
    const dataDir = join(root, 'cli')
    const first = await run(dataDir)
    expect(first.hello.addrs.length).toBeGreaterThan(0)
    expect(first.hello.addrs.every((a) => a.endsWith(`/p2p/${first.hello.id}`))).toBe(true)
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    const second = await run(dataDir)
    expect(second.hello.id).toBe(first.hello.id)
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
  })

  it('refuses to start without a data directory', async () => {
    const child = spawn(process.execPath, [PEER_CLI], { stdio: 'ignore' })
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(2)
  })
})
