/**
 * The membership service on SimNetwork: joins converge, auto mode commits once the member set is
 * stable and every node agrees on the ring, partitions heal, convergence survives message loss.
 * Timings are virtual (see `fastInit`: rounds of 100 ms, stableMs 1000).
 */
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, SeededRandom } from '../../src/core/index.ts'
import { getMember, statusOf } from '../../src/membership/cluster-state.ts'
import { MembershipService } from '../../src/membership/membership-service.ts'
import { commit, plan } from '../../src/membership/staging.ts'
import { fastInit, MembershipSim } from './service-sim.ts'

/** Whether every service has `count` valid members and the same committed ring over all of them. */
function ringAgreed(sim: MembershipSim, count: number): boolean {
  if (!sim.converged()) return false
  const state = sim.all()[0]!.state
  const owners = new Set(state.ring?.owners)
  return (
    state.members.length === count &&
    state.members.every((m) => m.lifecycle === 'valid' && owners.has(m.id))
  )
}

const statuses = (service: MembershipService): string[] =>
  service.state.members.map((m) => `${m.id}:${statusOf(m)}`)

describe('MembershipService', () => {
  it('converges after joins: every node holds every member, in one state', async () => {
    const sim = new MembershipSim(1)
    await sim.addMany(5)
    const atMs = await sim.runUntil(
      () => sim.converged() && sim.all().every((s) => s.state.members.length === 5),
      2000,
    )
    expect(atMs).toBeLessThanOrEqual(300)
    expect(sim.all()[0]!.state.members.map((m) => m.id)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4'])
  })

  it('auto mode commits once membership is stable, and every node agrees on the ring', async () => {
    const sim = new MembershipSim(2)
    await sim.addMany(3)
    await sim.scheduler.runFor(600)
    await sim.add('n3')
    const joinedMs = sim.scheduler.now()
    const agreedMs = await sim.runUntil(() => ringAgreed(sim, 4), 5000)
    const commits = sim.events.filter((e) => e.type === 'ring:changed' && e.node === 'n0')
    // No commit before the member set had been stable for stableMs after the last join.
    expect(commits.length).toBeGreaterThanOrEqual(1)
    expect(commits.at(-1)!.atMs).toBeGreaterThanOrEqual(joinedMs + 1000)
    expect(agreedMs).toBeLessThan(joinedMs + 1000 + 500)
    const state = sim.all()[0]!.state
    expect(state.claimant).toBe('n0')
    expect(new Set(state.ring!.owners)).toEqual(new Set(['n0', 'n1', 'n2', 'n3']))
    // Stable from then on: no further commit.
    const epoch = state.epoch
    await sim.scheduler.runFor(3000)
    expect(sim.all().map((s) => s.state.epoch)).toEqual([epoch, epoch, epoch, epoch])
    expect(sim.converged()).toBe(true)
  })

  it('heals a partition: each side marks the other down, then all converge, all up', async () => {
    const sim = new MembershipSim(3)
    await sim.addMany(6)
    await sim.runUntil(() => ringAgreed(sim, 6), 5000)
    sim.network.partition([
      ['n0', 'n1', 'n2'],
      ['n3', 'n4', 'n5'],
    ])
    await sim.scheduler.runFor(3000)
    const n0 = sim.services.get('n0')!
    const n5 = sim.services.get('n5')!
    expect(statuses(n0)).toEqual([
      'n0:valid',
      'n1:valid',
      'n2:valid',
      'n3:down',
      'n4:down',
      'n5:down',
    ])
    expect(statuses(n5).slice(0, 3)).toEqual(['n0:down', 'n1:down', 'n2:down'])
    sim.network.heal()
    await sim.runUntil(
      () =>
        sim.converged() &&
        sim.all()[0]!.state.members.every((m) => statusOf(m) === 'valid') &&
        sim.all().every((s) => ['n0', 'n5'].every((p) => p === s.self || s.health(p) === 'up')),
      3000,
    )
    // n0 may also see n1 and n2 go down and up, when the other side's marks reach it before their lifts.
    const ups = sim.events.filter((e) => e.type === 'member:up' && e.node === 'n0')
    expect(ups.map((e) => e.member)).toEqual(expect.arrayContaining(['n3', 'n4', 'n5']))
  })

  it('converges with 20% message loss (and 10% duplicates)', async () => {
    const sim = new MembershipSim(4, { lossRate: 0.2, duplicateRate: 0.1 })
    await sim.addMany(8)
    await sim.runUntil(() => ringAgreed(sim, 8), 10_000)
    const failed = sim.all().reduce((sum, s) => sum + s.stats().exchangesFailed, 0)
    expect(failed).toBeGreaterThan(0)
    // Loss alone (no lost connection) never marks anyone down.
    expect(sim.events.filter((e) => e.type === 'member:down')).toEqual([])
  })

  it('lifts its own down mark when it learns of it (a restarted node that lost its state)', async () => {
    const sim = new MembershipSim(5)
    await sim.addMany(4)
    await sim.runUntil(() => ringAgreed(sim, 4), 5000)
    await sim.crash('n2')
    await sim.runUntil(
      () => sim.all().every((s) => statusOf(getMember(s.state, 'n2')!) === 'down'),
      3000,
    )
    const restarted = await sim.add('n2')
    await sim.runUntil(
      () => sim.converged() && statusOf(getMember(restarted.state, 'n2')!) === 'valid',
      3000,
    )
    expect(sim.events.filter((e) => e.type === 'member:up' && e.member === 'n2')).toHaveLength(3)
    // The restarted node is up in the others' detectors only after steady heartbeats.
    await sim.runUntil(() => sim.services.get('n0')!.health('n2') === 'up', 2000)
  })

  it('stops cleanly: no more heartbeats, no handler', async () => {
    const sim = new MembershipSim(6, {}, { ...fastInit, autoClaim: false })
    await sim.addMany(2)
    await sim.scheduler.runFor(500)
    const n1 = sim.services.get('n1')!
    await n1.stop()
    const sent = n1.stats().heartbeatsSent
    await sim.scheduler.runFor(1000)
    expect(n1.stats().heartbeatsSent).toBe(sent)
    expect(n1.isStarted()).toBe(false)
    expect(sim.services.get('n0')!.state.epoch).toBe(0)
  })

  it('spreads an operator commit made through update(), with auto mode off', async () => {
    const sim = new MembershipSim(7, {}, { ...fastInit, autoClaim: false })
    await sim.addMany(3)
    await sim.scheduler.runFor(3000)
    expect(sim.converged()).toBe(true)
    expect(sim.all().map((s) => s.state.epoch)).toEqual([0, 0, 0])
    const joins = ['n0', 'n1', 'n2'].map((id) => ({ kind: 'join' as const, id }))
    sim.services.get('n1')!.update((s) => commit(s, plan(s, joins, 'n1', { partitionCount: 64 })))
    await sim.runUntil(() => ringAgreed(sim, 3), 1000)
    const rings = sim.events.filter((e) => e.type === 'ring:changed').map((e) => e.node)
    expect(rings.sort()).toEqual(['n0', 'n1', 'n2'])
    expect(sim.all()[0]!.state.claimant).toBe('n1')
  })

  it('rejects a bad cluster name or option', () => {
    const sim = new MembershipSim(8)
    const components = {
      transport: sim.network.createTransport('n0'),
      clock: sim.scheduler,
      scheduler: sim.scheduler,
      random: new SeededRandom(1),
    }
    expect(() => new MembershipService(components, { cluster: 'a/b' })).toThrow(
      InvalidArgumentError,
    )
    expect(() => new MembershipService(components, { cluster: 'c', fanout: 1.5 })).toThrow(
      InvalidArgumentError,
    )
    expect(() => new MembershipService(components, { cluster: 'c', gossipIntervalMs: 0 })).toThrow(
      InvalidArgumentError,
    )
  })

  it('replays exactly from its seed', async () => {
    const play = async (seed: number) => {
      const sim = new MembershipSim(seed, { lossRate: 0.1 })
      await sim.addMany(4)
      await sim.scheduler.runFor(1500)
      await sim.crash('n2')
      await sim.scheduler.runFor(2000)
      return {
        events: sim.events,
        digests: sim.all().map((s) => [...s.digest()]),
        stats: sim.all().map((s) => s.stats()),
      }
    }
    const a = await play(9)
    expect(await play(9)).toEqual(a)
    expect(a.events.some((e) => e.type === 'member:down' && e.member === 'n2')).toBe(true)
    expect((await play(10)).stats).not.toEqual(a.stats)
  })
})
