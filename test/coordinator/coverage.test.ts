import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CoverageError, coveragePlan } from '../../src/coordinator/index.ts'
import { createRing, hashKey, partitionOfPosition } from '../../src/ring/index.ts'
import { createKvCluster, text, utf8 } from './fixture.ts'

/** For each key partition, how many vnodes of the plan answer for it (vnode v holds v−n+1 … v). */
function answersPerKeyPartition(
  plan: { partition: number; keyFilter?: { partitions: readonly number[] } | undefined }[],
  q: number,
  n: number,
): number[] {
  const counts = new Array<number>(q).fill(0)
  for (const vnode of plan) {
    for (let i = 0; i < n; i++) {
      const k = (vnode.partition - i + q) % q
      if (vnode.keyFilter === undefined || vnode.keyFilter.partitions.includes(k)) counts[k]!++
    }
  }
  return counts
}

describe('coverage plan (riak_core_coverage_plan)', () => {
  it('takes every n-th vnode without filters when n divides Q and all are up', () => {
    const ring = createRing(Array.from({ length: 16 }, (_, i) => `m${i % 4}`))
    const plan = coveragePlan(ring, 4, () => true)
    expect(plan.kind).toBe('plan')
    if (plan.kind !== 'plan') return
    expect(plan.vnodes.map((v) => v.partition)).toEqual([3, 7, 11, 15])
    expect(plan.vnodes.every((v) => v.keyFilter === undefined)).toBe(true)
  })

  it('filters the overlap when n does not divide Q', () => {
    const ring = createRing(Array.from({ length: 16 }, (_, i) => `m${i % 5}`))
    const plan = coveragePlan(ring, 3, () => true)
    if (plan.kind !== 'plan') throw new Error('expected a plan')
    expect(plan.vnodes).toHaveLength(6)
    expect(plan.vnodes.filter((v) => v.keyFilter !== undefined)).toHaveLength(1)
    expect(answersPerKeyPartition([...plan.vnodes], 16, 3)).toEqual(new Array(16).fill(1))
  })

  it('names the key partitions no up vnode holds', () => {
    const owners = Array.from({ length: 8 }, (_, i) => `m${i}`)
    const plan = coveragePlan(createRing(owners), 2, (m) => m !== 'm3' && m !== 'm4')
    expect(plan).toEqual({ kind: 'uncovered', partitions: [3] })
  })

  it('property: every key partition is answered exactly once, by the fewest up vnodes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 7 }).chain((bits) =>
          fc.record({
            q: fc.constant(2 ** bits),
            n: fc.integer({ min: 1, max: 5 }),
            members: fc.integer({ min: 1, max: 9 }),
            downMask: fc.integer({ min: 0, max: 511 }),
            shift: fc.nat(),
          }),
        ),
        ({ q, n, members, downMask, shift }) => {
          const ring = createRing(Array.from({ length: q }, (_, i) => `m${(i + shift) % members}`))
          const isUp = (m: string) => ((downMask >> Number(m.slice(1))) & 1) === 0
          const plan = coveragePlan(ring, n, isUp)
          const holders = (k: number) =>
            Array.from({ length: n }, (_, i) => ring.owners[(k + i) % q]!)
          if (plan.kind === 'uncovered') {
            expect(plan.partitions.length).toBeGreaterThan(0)
            for (const k of plan.partitions) expect(holders(k).some(isUp)).toBe(false)
            return
          }
          for (let k = 0; k < q; k++) expect(holders(k).some(isUp)).toBe(true)
          expect(
            plan.vnodes.every((v) => isUp(v.member) && ring.owners[v.partition] === v.member),
          ).toBe(true)
          expect(answersPerKeyPartition([...plan.vnodes], q, n)).toEqual(new Array(q).fill(1))
          if (ring.owners.every(isUp)) expect(plan.vnodes).toHaveLength(Math.ceil(q / n))
        },
      ),
    )
  })
})

describe('list keys over a coverage plan', () => {
  const keys = Array.from({ length: 40 }, (_, i) => `key-${String(i).padStart(2, '0')}`)

  async function clusterWithKeys() {
    const cluster = await createKvCluster()
    const writer = cluster.nodes[0]!.coordinator
    for (const key of keys) await cluster.run(writer.put('b', key, utf8(key), { w: 3 }))
    await cluster.run(writer.put('other', 'x', utf8('x'), { w: 3 }))
    return cluster
  }

  it('returns each live key of the bucket once, in byte order', async () => {
    const cluster = await clusterWithKeys()
    const coordinator = cluster.nodes[3]!.coordinator
    const deleted = await cluster.run(coordinator.get('b', 'key-07'))
    await cluster.run(coordinator.delete('b', 'key-07', { context: deleted.context, w: 3 }))
    const listed = await cluster.run(coordinator.listKeys('b'))
    expect(listed.keys.map(text)).toEqual(keys.filter((k) => k !== 'key-07'))
    expect(listed.vnodes).toHaveLength(6) // ceil(16 / 3)
    // Without the plan's filters the overlapping vnode would have listed some keys twice.
    const overlapping = listed.vnodes.find((v) => v.keyFilter !== undefined)!
    const unfiltered = await cluster.run(
      cluster.nodes[3]!.client.coverage(
        overlapping.member,
        overlapping.partition,
        {
          type: 'listKeys',
          bucket: 'b',
        },
        undefined,
      ),
    )
    const filtered = unfiltered.keys.filter((key) =>
      overlapping.keyFilter!.partitions.includes(partitionOfPosition(hashKey('b', key), 16)),
    )
    expect(filtered.length).toBeLessThan(unfiltered.keys.length)
  })

  it('still covers every key with a node down, through other vnodes', async () => {
    const cluster = await clusterWithKeys()
    cluster.crash('node-2')
    const listed = await cluster.run(cluster.nodes[0]!.coordinator.listKeys('b'))
    expect(listed.keys.map(text)).toEqual(keys)
    expect(listed.vnodes.every((v) => v.member !== 'node-2')).toBe(true)
  })

  it('fails with CoverageError naming uncovered partitions when too many nodes are down', async () => {
    const cluster = await clusterWithKeys()
    for (const id of ['node-1', 'node-2', 'node-3', 'node-4']) cluster.crash(id)
    const error = await cluster.run(
      cluster.nodes[0]!.coordinator.listKeys('b').catch((e: unknown) => e),
    )
    expect(error).toBeInstanceOf(CoverageError)
    expect((error as CoverageError).uncovered.length).toBeGreaterThan(0)
  })

  it('fails with CoverageError listing the vnode that timed out', async () => {
    const cluster = await clusterWithKeys()
    const plan = coveragePlan(cluster.ring, 3, () => true)
    if (plan.kind !== 'plan') throw new Error('expected a plan')
    const silent = plan.vnodes.find((v) => v.member !== 'node-0')!.member
    cluster.network.blockLink('node-0', silent)
    const started = cluster.scheduler.now()
    const error = await cluster.run(
      cluster.nodes[0]!.coordinator.listKeys('b', { timeoutMs: 300 }).catch((e: unknown) => e),
    )
    expect(cluster.scheduler.now() - started).toBe(300)
    expect(error).toBeInstanceOf(CoverageError)
    const failures = (error as CoverageError).failures
    expect(failures.length).toBeGreaterThan(0)
    expect(failures.every((f) => f.member === silent && f.code === 'ERR_TIMEOUT')).toBe(true)
  })
})
