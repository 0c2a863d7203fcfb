/**
 * Named simulation scenarios: fixed seeds and hand-written fault schedules for the situations a
 * Dynamo cluster must survive, each judged by the same checkers as the swarm (no acknowledged write
 * lost, no resurrection, bounded siblings, and after healing: one cluster state, no transfers or
 * hints left, replicas identical), plus what each scenario is about.
 */
import { describe, expect, it } from 'vitest'
import { newValue, update } from '../../src/clock/index.ts'
import { currentOwners, getMember } from '../../src/membership/index.ts'
import {
  type FaultSchedule,
  runSeed,
  type SeedResult,
  type SeedRunInit,
  SimCluster,
} from '../../src/sim/index.ts'

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

const owners = ['node-0', 'node-1', 'node-2', 'node-3', 'node-4']

async function run(init: SeedRunInit): Promise<{ result: SeedResult; cluster: SimCluster }> {
  let cluster: SimCluster | undefined
  const result = await runSeed({
    ...init,
    observe: (c) => {
      cluster = c
      init.observe?.(c)
    },
  })
  return { result, cluster: cluster! }
}

/** Runs `check` every `periodMs` of virtual time until it returns true. */
function poll(cluster: SimCluster, periodMs: number, check: () => boolean): void {
  const tick = (): void => {
    if (!check()) cluster.scheduler.schedule(periodMs, tick)
  }
  cluster.scheduler.schedule(periodMs, tick)
}

function expectHealthy(result: SeedResult): void {
  expect(result.violations).toEqual([])
  expect(result.ok).toBe(true)
  expect(result.acknowledgedWrites).toBeGreaterThan(50)
  expect(result.lostAcknowledgedWrites).toBe(0)
  expect(result.convergenceMs).toBeDefined()
}

const stateOf = (cluster: SimCluster) => cluster.running()[0]!.membership.state

describe('named scenarios', () => {
  it('partition during handoff: a join whose transfers are cut off midway completes after healing', async () => {
    let partitionedMs: number | undefined
    let runningAtCut = 0
    const { result, cluster } = await run({
      seed: 101,
      workload: { keys: 60 },
      cluster: { handoff: { batchItemsMax: 2, windowBatches: 1 } },
      schedule: [{ atMs: 100, step: { kind: 'join', node: 'node-5' } }],
      observe: (c) =>
        poll(c, 5, () => {
          const running = c.running().flatMap((node) => node.handoff.status().running)
          if (!running.some((t) => t.to === 'node-5')) return false
          runningAtCut = running.length
          partitionedMs = c.scheduler.now()
          c.partition([['node-5'], [...owners, 'guest-0']])
          c.scheduler.schedule(1500, () => c.heal())
          return true
        }),
    })
    expect(partitionedMs).toBeDefined()
    expect(runningAtCut).toBeGreaterThan(0)
    expectHealthy(result)
    const owned = stateOf(cluster).ring!.owners.filter((o) => o === 'node-5').length
    expect(owned).toBeGreaterThanOrEqual(2)
    expect(stateOf(cluster).transfers.every((t) => t.status === 'complete')).toBe(true)
  })

  it('primary down then back: fallbacks keep hints and hand them to the primary (hinted handoff)', async () => {
    let hintsWhileDown = 0
    const { result, cluster } = await run({
      seed: 102,
      durationMs: 5000,
      schedule: [
        { atMs: 200, step: { kind: 'crash', node: 'node-1' } },
        { atMs: 3500, step: { kind: 'restart', node: 'node-1' } },
      ],
      observe: (c) =>
        c.scheduler.schedule(3400, () => {
          const holders = currentOwners(stateOf(c))!
          hintsWhileDown = c
            .running()
            .flatMap((node) =>
              node.partitionsWithData().filter((p) => holders[p] === 'node-1'),
            ).length
        }),
    })
    expect(hintsWhileDown).toBeGreaterThan(0)
    expectHealthy(result)
    const holders = currentOwners(stateOf(cluster))!
    const own = holders.flatMap((owner, p) => (owner === 'node-1' ? [p] : []))
    const holding = cluster.node('node-1')!.partitionsWithData()
    expect(holding.length).toBeGreaterThan(0)
    expect(holding.every((p) => own.includes(p))).toBe(true)
  })

  it('bulk join under writes: three owners join together and end with their share', async () => {
    const joins: FaultSchedule = ['node-5', 'node-6', 'node-7'].map((node, i) => ({
      atMs: 200 + 50 * i,
      step: { kind: 'join', node },
    }))
    const { result, cluster } = await run({ seed: 103, schedule: joins })
    expectHealthy(result)
    const ring = stateOf(cluster).ring!
    const counts = new Map<string, number>()
    for (const owner of ring.owners) counts.set(owner, (counts.get(owner) ?? 0) + 1)
    expect([...counts.keys()].sort()).toEqual([...owners, 'node-5', 'node-6', 'node-7'])
    expect([...counts.values()].every((count) => count === 2)).toBe(true)
  })

  it('leave under writes: the leaving owner hands everything off and exits', async () => {
    const { result, cluster } = await run({
      seed: 104,
      schedule: [
        { atMs: 500, step: { kind: 'leave', node: 'node-2' } },
        { atMs: 900, step: { kind: 'crash', node: 'node-4' } },
        { atMs: 2000, step: { kind: 'restart', node: 'node-4' } },
      ],
    })
    expectHealthy(result)
    const state = stateOf(cluster)
    expect(getMember(state, 'node-2')!.lifecycle).toBe('exiting')
    expect(state.ring!.owners).not.toContain('node-2')
    expect(cluster.node('node-2')!.partitionsWithData()).toEqual([])
  })

  it('storage wipe of one replica: nothing acknowledged is lost and the replica is rebuilt', async () => {
    const { result, cluster } = await run({
      seed: 105,
      schedule: [{ atMs: 2500, step: { kind: 'wipe', node: 'node-1' } }],
    })
    expectHealthy(result)
    expect(cluster.wipedAtMs('node-1')).toEqual([2500])
    // Every write was acknowledged by two members, so one wipe excuses none.
    expect(result.excusedWrites).toBe(0)
    // The final reads repaired the wiped replicas: the replica check passed and node-1 holds data again.
    expect(cluster.node('node-1')!.partitionsWithData().length).toBeGreaterThan(0)
  })

  it('two writers on one key: concurrent writes become siblings, updates resolve them', async () => {
    const { result } = await run({
      seed: 106,
      workload: { clients: 2, keys: 1, blindRatio: 0.4, getRatio: 0.1, thinkMsMax: 5 },
      schedule: [
        {
          atMs: 1000,
          step: {
            kind: 'partition',
            groups: [
              ['node-0', 'node-1', 'guest-0'],
              ['node-2', 'node-3', 'node-4'],
            ],
          },
        },
        { atMs: 3000, step: { kind: 'heal' } },
      ],
    })
    // Healthy includes the sibling bound: no final read holds more than 8 values.
    expectHealthy(result)
    expect(result.maxSiblings).toBeGreaterThanOrEqual(2)
  })
})

describe('the checkers catch broken durability', () => {
  /** Every owner loses power at once, then comes back. */
  const powerCut: FaultSchedule = [
    ...owners.map((node) => ({ atMs: 2000, step: { kind: 'crash' as const, node } })),
    ...owners.map((node) => ({ atMs: 2300, step: { kind: 'restart' as const, node } })),
  ]

  it('with dw = w every acknowledged write survives a power cut of the whole cluster', async () => {
    const { result } = await run({ seed: 107, schedule: powerCut })
    expectHealthy(result)
  })

  it('with dw = 0 (acknowledged before durable) the same power cut loses acknowledged writes, and the checker says so', async () => {
    const { result } = await run({ seed: 107, schedule: powerCut, cluster: { bucket: { dw: 0 } } })
    expect(result.ok).toBe(false)
    expect(result.lostAcknowledgedWrites).toBeGreaterThan(0)
    expect(result.violations.some((v) => v.kind === 'lost-write')).toBe(true)
  })
})

describe('regressions found by the simulator', () => {
  /**
   * Seed 144 at 3 s: node-2 commits its leave and starts handing partition 4 to node-1. node-1 has
   * not heard of that commit yet, finds partition 4 holding data it does not own (the batches it just
   * received) and hands them back to node-2 as hints. node-2, handing off itself, takes them, then
   * finishes and deletes its copy; node-1 finishes its hinted handoff and deletes its copy too. The
   * acknowledged write c0-77 is then left on node-3 alone, whose disk is wiped. Fixed in
   * src/handoff/receiver.ts: a vnode that is itself handing off refuses hinted data (the sender
   * retries once gossip has told it the new commit). Replay:
   * `npm run sim -- --seed 144 --duration 3000`.
   */
  it('an ownership transfer to a member with a stale state is not handed back as hints and deleted', async () => {
    const result = await runSeed({ seed: 144, durationMs: 3000 })
    expect(result.violations).toEqual([])
  })

  /**
   * Found by seed 1803 at 3 s (`npm run sim -- --seed 1803 --duration 3000`): a get's read repair
   * sends node-3 the object holding c0-87 (a non-durable merge) a moment before the put's own
   * durable merge arrives with the same object. `KvVnode`'s merge finds the stored bytes equal and
   * skips the write, so node-3 acknowledges the put as durable while its copy is still volatile; it
   * crashes and loses it. Reproduced here without timing. Fixed in src/kv/vnode.ts (#mergeObject):
   * an equal write is skipped only when it need not be durable.
   */
  it('a durable merge of an object already stored non-durably survives a crash', async () => {
    const cluster = await SimCluster.create({ seed: 9, guests: 0 })
    const object = update(newValue(undefined, utf8('v')), undefined, 'writer:1')
    const merge = { type: 'merge', bucket: 'b', key: 'k', object } as const
    const vnodes = cluster.node('node-1')!.manager
    await cluster.settle(vnodes.command(3, merge))
    await cluster.settle(vnodes.command(3, { ...merge, durable: true }))
    cluster.crash('node-1')
    await cluster.restart('node-1')
    const restarted = cluster.node('node-1')!.manager
    const reply = await cluster.settle(restarted.command(3, { type: 'get', bucket: 'b', key: 'k' }))
    expect(reply.type === 'get' && reply.values.length).toBe(1)
  })
})

describe('determinism', () => {
  it('replays a seed exactly: same trace hash, same outcome; another seed differs', async () => {
    const a = await runSeed({ seed: 7, durationMs: 2000 })
    const b = await runSeed({ seed: 7, durationMs: 2000 })
    const c = await runSeed({ seed: 8, durationMs: 2000 })
    expect(b.traceHash).toBe(a.traceHash)
    expect({ ...b, traceHash: '' }).toEqual({ ...a, traceHash: '' })
    expect(c.traceHash).not.toBe(a.traceHash)
  })
})
