import { describe, expect, it } from 'vitest'
import { QuorumError } from '../../src/coordinator/index.ts'
import { InvalidArgumentError } from '../../src/core/index.ts'
import { preflist } from '../../src/ring/index.ts'
import { MemoryStorage } from '../../src/storage/memory.ts'
import { TimeoutError } from '../../src/transport/index.ts'
import { createKvCluster, type SimKvCluster, storedValues, text, utf8 } from './fixture.ts'

const B = 'bucket'

/** The preflist of `key` with every member up. */
function primariesOf(cluster: SimKvCluster, key: string) {
  return preflist(cluster.ring, { bucket: B, key }, 3, () => true)
}

/** A node that holds no replica of `key`. */
function outsiderOf(cluster: SimKvCluster, key: string) {
  const holders = new Set(primariesOf(cluster, key).map((e) => e.member))
  return cluster.nodes.find((node) => !holders.has(node.id))!
}

describe('coordinated put and get', () => {
  it('writes with w=2 and reads with r=2 on 5 nodes; every primary ends up with the value', async () => {
    const cluster = await createKvCluster()
    const [first] = primariesOf(cluster, 'k')
    const coordinator = cluster.node(first!.member).coordinator
    const put = await cluster.run(coordinator.put(B, 'k', utf8('v1')))
    expect(put.values.map(text)).toEqual(['v1'])
    // The coordinating node holds a replica, so it applied the write on its own vnode.
    expect(put.coordinator).toEqual(first)
    expect(put.answered.length).toBeGreaterThanOrEqual(2)
    expect(put.answered.every((a) => a.kind === 'primary' && !a.durable)).toBe(true)

    const reader = outsiderOf(cluster, 'k').coordinator
    const got = await cluster.run(reader.get(B, 'k'))
    expect(got.values.map(text)).toEqual(['v1'])
    expect(got.answered.length).toBeGreaterThanOrEqual(2)
    expect(got.context).toEqual(put.context)
    await cluster.run(got.repair)
    for (const entry of primariesOf(cluster, 'k')) {
      expect(await storedValues(cluster.node(entry.member), entry.partition, B, 'k')).toEqual([
        'v1',
      ])
    }
    // One write, one dot: every replica holds the coordinating vnode's actor only.
    expect(got.object?.entries.map((e) => e.counter)).toEqual([1])
  })

  it('a guest coordinates: it owns nothing, so the first primary applies the write', async () => {
    const cluster = await createKvCluster({ guests: 1 })
    const guest = cluster.node('guest-0').coordinator
    const put = await cluster.run(guest.put(B, 'g', utf8('from a guest')))
    expect(put.coordinator).toEqual(primariesOf(cluster, 'g')[0])
    const got = await cluster.run(guest.get(B, 'g'))
    expect(got.values.map(text)).toEqual(['from a guest'])
  })

  it('reads an absent key as no values and an empty context', async () => {
    const cluster = await createKvCluster()
    const got = await cluster.run(cluster.nodes[0]!.coordinator.get(B, 'nothing'))
    expect(got).toMatchObject({ values: [], context: [], object: undefined })
    expect(await cluster.run(got.repair)).toEqual({ repaired: [], failures: [] })
  })

  it('uses fallbacks for a down primary and reports them as fallback', async () => {
    const cluster = await createKvCluster()
    const [, second] = primariesOf(cluster, 'k')
    cluster.crash(second!.member)
    const writer = cluster.nodes.find((n) => !cluster.down.has(n.id))!.coordinator
    const put = await cluster.run(writer.put(B, 'k', utf8('v'), { w: 3 }))
    const fallback = put.answered.find((a) => a.kind === 'fallback')
    expect(fallback).toBeDefined()
    expect(fallback!.partition).toBe(second!.partition)
    expect(fallback!.member).not.toBe(second!.member)
    expect(put.answered.filter((a) => a.kind === 'primary')).toHaveLength(2)
    // The fallback keeps the write as a hint in the down primary's partition.
    expect(await storedValues(cluster.node(fallback!.member), second!.partition, B, 'k')).toEqual([
      'v',
    ])
    const got = await cluster.run(writer.get(B, 'k', { r: 3 }))
    expect(got.values.map(text)).toEqual(['v'])
    expect(got.answered.map((a) => a.kind).sort()).toEqual(['fallback', 'primary', 'primary'])
  })

  it('fails pr=3 and pw=3 with a QuorumError when a primary is down, writing nothing', async () => {
    const cluster = await createKvCluster()
    const primaries = primariesOf(cluster, 'k')
    cluster.crash(primaries[0]!.member)
    const coordinator = cluster.node(primaries[1]!.member).coordinator
    const read = await cluster.run(coordinator.get(B, 'k', { pr: 3 }).catch((e: unknown) => e))
    expect(read).toBeInstanceOf(QuorumError)
    expect(read).toMatchObject({ code: 'ERR_QUORUM', needed: { answers: 2, primaries: 3 } })
    const write = await cluster.run(
      coordinator.put(B, 'k', utf8('v'), { pw: 3 }).catch((e: unknown) => e),
    )
    expect(write).toBeInstanceOf(QuorumError)
    expect((write as QuorumError).message).toMatch(/put needed 2 answers and 3 primaries/)
    for (const entry of primaries.slice(1)) {
      expect(await storedValues(cluster.node(entry.member), entry.partition, B, 'k')).toEqual([])
    }
    // With pr=2 the two up primaries suffice.
    await cluster.run(coordinator.put(B, 'k', utf8('v'), { pw: 2 }))
    const got = await cluster.run(coordinator.get(B, 'k', { pr: 2 }))
    expect(got.values.map(text)).toEqual(['v'])
  })

  it('keeps concurrent writes to one key as siblings, wherever they were coordinated', async () => {
    const cluster = await createKvCluster()
    // Two holders of the key: each applies its write on its own vnode, with its own actor.
    const [a, b] = primariesOf(cluster, 'k').map((e) => cluster.node(e.member))
    const [x, y] = await cluster.run(
      Promise.all([a!.coordinator.put(B, 'k', utf8('x')), b!.coordinator.put(B, 'k', utf8('y'))]),
    )
    expect(x.coordinator.member).toBe(a!.id)
    expect(y.coordinator.member).toBe(b!.id)
    const got = await cluster.run(cluster.nodes[2]!.coordinator.get(B, 'k', { r: 3 }))
    expect(got.values.map(text).sort()).toEqual(['x', 'y'])
  })

  it('a write with the read context supersedes the siblings it read', async () => {
    const cluster = await createKvCluster()
    const [a, b, c] = cluster.nodes
    await cluster.run(
      Promise.all([a!.coordinator.put(B, 'k', utf8('x')), b!.coordinator.put(B, 'k', utf8('y'))]),
    )
    const read = await cluster.run(c!.coordinator.get(B, 'k', { r: 3 }))
    expect(read.values).toHaveLength(2)
    const put = await cluster.run(c!.coordinator.put(B, 'k', utf8('xy'), { context: read.context }))
    expect(put.values.map(text)).toEqual(['xy'])
    const got = await cluster.run(a!.coordinator.get(B, 'k', { r: 3 }))
    expect(got.values.map(text)).toEqual(['xy'])
    // A blind write, by contrast, stays a sibling.
    await cluster.run(b!.coordinator.put(B, 'k', utf8('blind')))
    const after = await cluster.run(a!.coordinator.get(B, 'k', { r: 3 }))
    expect(after.values.map(text).sort()).toEqual(['blind', 'xy'])
  })

  it('read repair brings a stale replica up to date', async () => {
    const cluster = await createKvCluster()
    const [first, , third] = primariesOf(cluster, 'k')
    const coordinator = cluster.node(first!.member).coordinator
    const v1 = await cluster.run(coordinator.put(B, 'k', utf8('v1'), { w: 3 }))
    // The third replica misses the second write: its link from the coordinator drops everything.
    cluster.network.blockLink(first!.member, third!.member)
    const v2 = await cluster.run(
      coordinator.put(B, 'k', utf8('v2'), { context: v1.context, w: 2, timeoutMs: 500 }),
    )
    expect(v2.values.map(text)).toEqual(['v2'])
    await cluster.scheduler.runFor(1000)
    const stale = cluster.node(third!.member)
    expect(await storedValues(stale, third!.partition, B, 'k')).toEqual(['v1'])
    cluster.network.unblockLink(first!.member, third!.member)

    const got = await cluster.run(coordinator.get(B, 'k', { r: 2 }))
    expect(got.values.map(text)).toEqual(['v2'])
    const report = await cluster.run(got.repair)
    expect(report).toEqual({ repaired: [third], failures: [] })
    expect(await storedValues(stale, third!.partition, B, 'k')).toEqual(['v2'])
    // Nothing is stale any more: the next read repairs nothing.
    const again = await cluster.run(coordinator.get(B, 'k', { r: 3 }))
    expect((await cluster.run(again.repair)).repaired).toEqual([])
  })

  it('read repair still runs when another replica timed out (with a fresh timeout)', async () => {
    const cluster = await createKvCluster()
    const [first, second, third] = primariesOf(cluster, 'k')
    const coordinator = cluster.node(first!.member).coordinator
    const v1 = await cluster.run(coordinator.put(B, 'k', utf8('v1'), { w: 3 }))
    cluster.network.blockLink(first!.member, third!.member)
    await cluster.run(coordinator.put(B, 'k', utf8('v2'), { context: v1.context, timeoutMs: 500 }))
    await cluster.scheduler.runFor(1000)
    cluster.network.unblockLink(first!.member, third!.member)
    cluster.network.blockLink(first!.member, second!.member)
    const got = await cluster.run(coordinator.get(B, 'k', { timeoutMs: 500 }))
    expect(got.values.map(text)).toEqual(['v2'])
    expect(got.answered).toEqual([first, third])
    const report = await cluster.run(got.repair)
    expect(report).toEqual({ repaired: [third], failures: [] })
    expect(await storedValues(cluster.node(third!.member), third!.partition, B, 'k')).toEqual([
      'v2',
    ])
  })

  it('read repair sends the value to a replica that missed the key entirely', async () => {
    const cluster = await createKvCluster()
    const [first, second, third] = primariesOf(cluster, 'k')
    cluster.network.blockLink(first!.member, third!.member)
    await cluster.run(
      cluster.node(first!.member).coordinator.put(B, 'k', utf8('v'), { timeoutMs: 500 }),
    )
    await cluster.scheduler.runFor(1000)
    cluster.network.unblockLink(first!.member, third!.member)
    const got = await cluster.run(cluster.node(second!.member).coordinator.get(B, 'k'))
    expect((await cluster.run(got.repair)).repaired).toEqual([third])
    expect(await storedValues(cluster.node(third!.member), third!.partition, B, 'k')).toEqual(['v'])
  })

  it('deletes with a tombstone: the key reads as absent and a concurrent write survives', async () => {
    const cluster = await createKvCluster()
    const coordinator = cluster.nodes[0]!.coordinator
    await cluster.run(coordinator.put(B, 'k', utf8('v')))
    const read = await cluster.run(coordinator.get(B, 'k'))
    const deleted = await cluster.run(
      cluster.nodes[1]!.coordinator.delete(B, 'k', { context: read.context }),
    )
    expect(deleted.values).toEqual([])
    const got = await cluster.run(cluster.nodes[2]!.coordinator.get(B, 'k', { r: 3 }))
    expect(got.values).toEqual([])
    expect(got.object).toBeDefined() // the tombstone, with its clock
    // A write that did not see the delete is concurrent with it and stays.
    await cluster.run(coordinator.put(B, 'k', utf8('late'), { context: read.context }))
    const after = await cluster.run(coordinator.get(B, 'k', { r: 3 }))
    expect(after.values.map(text)).toEqual(['late'])
  })

  it('reports replicas that did not answer in time as ERR_TIMEOUT in the QuorumError', async () => {
    const cluster = await createKvCluster()
    const [first, second, third] = primariesOf(cluster, 'k')
    const coordinator = cluster.node(first!.member).coordinator
    await cluster.run(coordinator.put(B, 'k', utf8('v'), { w: 3 }))
    cluster.network.blockLink(first!.member, second!.member)
    cluster.network.blockLink(first!.member, third!.member)
    const started = cluster.scheduler.now()
    const error = await cluster.run(
      coordinator.get(B, 'k', { r: 2, timeoutMs: 800 }).catch((e: unknown) => e),
    )
    expect(cluster.scheduler.now() - started).toBe(800)
    expect(error).toBeInstanceOf(QuorumError)
    const quorum = error as QuorumError
    expect(quorum).toMatchObject({ answered: 1, asked: 3, needed: { answers: 2, primaries: 0 } })
    expect(quorum.failures.map((f) => [f.member, f.partition, f.code]).sort()).toEqual(
      [
        [second!.member, second!.partition, TimeoutError.code],
        [third!.member, third!.partition, TimeoutError.code],
      ].sort(),
    )
    expect(quorum.message).toContain(
      `${second!.member}@${second!.partition} (primary): ERR_TIMEOUT`,
    )
  })

  it('acknowledges dw writes only once durable: they survive a storage crash, others may not', async () => {
    const cluster = await createKvCluster()
    const [first] = primariesOf(cluster, 'k')
    const node = cluster.node(first!.member)
    const coordinator = node.coordinator
    const durable = await cluster.run(coordinator.put(B, 'k', utf8('kept'), { dw: 3 }))
    expect(durable.answered).toHaveLength(3)
    expect(durable.answered.every((a) => a.durable)).toBe(true)
    await cluster.run(coordinator.put(B, 'volatile', utf8('lost')))
    node.storage.crash()
    const reopened = new MemoryStorage({ volume: node.storage.volume })
    const backend = await reopened.open(first!.partition)
    const keys: string[] = []
    for await (const [key] of backend.fold()) keys.push(text(key))
    expect(keys.some((key) => key.endsWith('k'))).toBe(true)
    expect(keys.some((key) => key.endsWith('volatile'))).toBe(false)
  })

  it('fails the put with the coordinating vnode’s error code when it refuses the write', async () => {
    const cluster = await createKvCluster()
    const error = await cluster.run(
      cluster.nodes[0]!.coordinator.put(B, 'k', new Uint8Array(2 * 1024 * 1024)).catch(
        (e: unknown) => e,
      ),
    )
    expect(error).toBeInstanceOf(QuorumError)
    expect((error as QuorumError).failures.map((f) => f.code)).toEqual(['ERR_TOO_LARGE'])
    expect((error as QuorumError).answered).toBe(0)
  })

  it('rejects bad quorum settings with InvalidArgumentError before sending anything', async () => {
    const cluster = await createKvCluster()
    const coordinator = cluster.nodes[0]!.coordinator
    await expect(coordinator.get(B, 'k', { r: 4 })).rejects.toThrow(InvalidArgumentError)
    await expect(coordinator.put(B, 'k', utf8('v'), { w: 0 })).rejects.toThrow(/w must be/)
    await expect(coordinator.put(B, 'k', utf8('v'), { dw: 4 })).rejects.toThrow(/dw must be/)
    await expect(coordinator.get(B, 'k', { n: 2.5 })).rejects.toThrow(/n must be/)
    await expect(coordinator.get(B, 'k', { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/)
    expect(cluster.scheduler.isIdle()).toBe(true)
  })

  it('applies per-bucket settings: n=1 stores one replica', async () => {
    const cluster = await createKvCluster({
      coordinator: { buckets: new Map([['single', { n: 1, r: 1, w: 1 }]]) },
    })
    const coordinator = cluster.nodes[0]!.coordinator
    const put = await cluster.run(coordinator.put('single', 'k', utf8('v')))
    expect(put.answered).toHaveLength(1)
    const got = await cluster.run(coordinator.get('single', 'k'))
    expect(got.answered).toHaveLength(1)
    await expect(coordinator.get('single', 'k', { r: 2 })).rejects.toThrow(/r must be/)
  })

  it('rejects with the signal reason when the caller aborts', async () => {
    const cluster = await createKvCluster()
    const [first, second, third] = primariesOf(cluster, 'k')
    cluster.network.blockLink(first!.member, second!.member)
    cluster.network.blockLink(first!.member, third!.member)
    const controller = new AbortController()
    const pending = cluster
      .node(first!.member)
      .coordinator.get(B, 'k', { signal: controller.signal })
      .catch((e: unknown) => e)
    cluster.scheduler.schedule(100, () => controller.abort(new Error('client went away')))
    const error = await cluster.run(pending)
    expect((error as Error).message).toBe('client went away')
    expect(cluster.scheduler.now()).toBe(100)
  })
})

describe('coordinated requests on a lossy network', () => {
  it('every acknowledged write is read back once the network is quiet (R + W > N)', async () => {
    const cluster = await createKvCluster({
      seed: 7,
      links: { lossRate: 0.15, duplicateRate: 0.1, meanDelayMs: 20 },
      coordinator: { timeoutMs: 300 },
    })
    const acknowledged: string[] = []
    for (let i = 0; i < 30; i++) {
      const key = `k${i}`
      const writer = cluster.nodes[i % cluster.nodes.length]!.coordinator
      const outcome = await cluster.run(writer.put(B, key, utf8(key)).catch((e: unknown) => e))
      if (outcome instanceof Error) expect(outcome).toBeInstanceOf(QuorumError)
      else acknowledged.push(key)
    }
    expect(acknowledged.length).toBeGreaterThan(10)
    expect(acknowledged.length).toBeLessThan(30)
    cluster.network.configure({ lossRate: 0, duplicateRate: 0 })
    for (const key of acknowledged) {
      const got = await cluster.run(cluster.nodes[0]!.coordinator.get(B, key))
      expect(got.values.map(text)).toEqual([key])
    }
  })
})
